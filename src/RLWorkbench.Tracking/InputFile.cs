namespace RLWorkbench.Tracking;

/// <summary>The one sentence for an input file that cannot be read because it is not there as a file.</summary>
public static class InputFile
{
    /// <summary>
    /// "<paramref name="what"/> '<paramref name="path"/>' does not exist", or "is a directory, not a file" when it is one,
    /// so a user who gave a run's folder instead of a file inside it is told that, not that the path is missing.
    /// </summary>
    public static string Missing(string what, string path, string? hint = null)
    {
        var problem = Directory.Exists(path) ? "is a directory, not a file" : "does not exist";
        return $"{what} '{path}' {problem}{(hint is null ? "" : "; " + hint)}.";
    }
}
