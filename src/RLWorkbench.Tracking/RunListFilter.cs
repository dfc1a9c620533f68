namespace RLWorkbench.Tracking;

/// <summary>
/// Which runs `runs list` shows: of one kind, in one status (stale counts as its own status, since such a run
/// will never end), and whose id or algorithm contains a text. Each part is optional; all given must hold.
/// </summary>
public sealed record RunListFilter(string? Kind = null, string? Status = null, string? Text = null)
{
    public static readonly IReadOnlyList<string> Statuses = ["running", "stale", "finished", "failed", "killed", "unreadable"];

    /// <summary>Null when the filter can be used, else one sentence naming the value and what is allowed.</summary>
    public string? Problem() => Status is not null && !Statuses.Contains(Status, StringComparer.OrdinalIgnoreCase)
        ? $"--status '{Status}' is not a run status; allowed: {string.Join(", ", Statuses)}."
        : null;

    public bool Matches(RunListing run)
    {
        var status = run.Info is { } info ? RunReport.StatusText(info.Status, run.Stale) : "unreadable";
        if (Status is not null && !string.Equals(Status, status, StringComparison.OrdinalIgnoreCase))
            return false;
        if (Kind is not null && !string.Equals(Kind, run.Info?.Kind, StringComparison.OrdinalIgnoreCase))
            return false;
        if (Text is null)
            return true;
        var id = run.Info?.Id ?? Path.GetFileName(run.Directory);
        return id.Contains(Text, StringComparison.OrdinalIgnoreCase)
            || (run.Headline.Algorithm?.Contains(Text, StringComparison.OrdinalIgnoreCase) ?? false);
    }

    public IReadOnlyList<RunListing> Apply(IReadOnlyList<RunListing> runs) => runs.Where(Matches).ToList();
}
