using System.Globalization;

namespace RLWorkbench.Experiments;

/// <summary>Progress sinks for callers that do not draw their own: nothing at all, or plain lines (notebooks, logs).</summary>
public static class ExperimentProgress
{
    /// <summary>Reports nothing.</summary>
    public static IExperimentProgress Silent { get; } = new SilentProgress();

    /// <summary>One line for the start, each notice and each report: "[ppo] 16,384/50,000 steps  3,012/s  ep_rew_mean ...".</summary>
    public static IExperimentProgress Lines(TextWriter output) => new LineProgress(
        output,
        r => string.Create(CultureInfo.InvariantCulture, $"{r.Done:N0}/{r.Total:N0} {r.Unit}  {r.UnitsPerSecond:N0}/s{(r.Detail is null ? "" : "  " + r.Detail.Trim())}"),
        started: (description, done, total, unit) => string.Create(CultureInfo.InvariantCulture, $"{description} ({done:N0} of {total:N0} {unit} done)"));

    private sealed class SilentProgress : IExperimentProgress
    {
        public void Started(string description, long done, long total, string unit) { }

        public void Advanced(long done, double unitsPerSecond, string? detail) { }

        public void Notice(string message) { }
    }
}

/// <summary>
/// A run's progress as plain lines (notebooks, logs, redirected output, --plain, and the commands that print
/// one line per iteration or seed): the start line (the description, unless <paramref name="started"/> makes
/// another), a line per report made by <paramref name="line"/> (none when it returns null), and notices.
/// </summary>
public sealed class LineProgress(
    TextWriter output,
    Func<ProgressReport, string?> line,
    string noticePrefix = "",
    Func<string, long, long, string, string>? started = null) : IExperimentProgress
{
    private readonly Lock gate = new();
    private long total;
    private string unit = "";

    public void Started(string description, long done, long total, string unit)
    {
        lock (gate)
        {
            this.total = total;
            this.unit = unit;
            output.WriteLine(started?.Invoke(description, done, total, unit) ?? description);
        }
    }

    public void Advanced(long done, double unitsPerSecond, string? detail)
    {
        lock (gate)
        {
            if (line(new ProgressReport(done, total, unit, unitsPerSecond, detail)) is { } text)
                output.WriteLine(text);
        }
    }

    public void Notice(string message)
    {
        lock (gate)
            output.WriteLine(noticePrefix + message);
    }
}

/// <summary>One report of a running experiment, as a console line is made from it.</summary>
public sealed record ProgressReport(long Done, long Total, string Unit, double UnitsPerSecond, string? Detail)
{
    public TimeSpan Remaining => TimeSpan.FromSeconds(Math.Max(0, Total - Done) / Math.Max(UnitsPerSecond, 1e-9));
}
