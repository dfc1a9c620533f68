namespace RLWorkbench.Tracking.Plots;

/// <summary>What a plotting pass wrote, and what it could not draw and why.</summary>
public sealed record PlotResult(IReadOnlyList<string> Files, IReadOnlyList<string> Notes);

/// <summary>
/// Draws a run's figures as PNG files into its artifacts/plots/ folder, chosen by the run's kind, from
/// the tables the run format names. Figures whose tables are missing are skipped with a note.
/// </summary>
public static class RunPlotter
{
    public static string PlotsDirectory(RunRecord run) => Path.Combine(run.ArtifactsDirectory, "plots");

    /// <summary>
    /// Draws every figure into a staging folder next to the plots and then renames each into place, so a pass that fails
    /// part-way (a full disk, a malformed table) leaves each PNG either as it was or complete, never cut short.
    /// </summary>
    public static PlotResult Plot(RunRecord run, string? outputDirectory = null)
    {
        var final = Path.GetFullPath(outputDirectory ?? PlotsDirectory(run));
        var staging = Path.Combine(final, $".drawing-{Environment.ProcessId}");
        try
        {
            var drawn = Draw(run, staging);
            var files = new List<string>();
            foreach (var file in drawn.Files)
            {
                var target = Path.Combine(final, Path.GetRelativePath(staging, file));
                File.Move(file, target, overwrite: true);
                files.Add(target);
            }
            return drawn with { Files = files };
        }
        finally
        {
            if (Directory.Exists(staging))
                Directory.Delete(staging, recursive: true);
        }
    }

    private static PlotResult Draw(RunRecord run, string dir)
    {
        var files = new List<string>();
        var notes = new List<string>();
        switch (run.Kind)
        {
            case "ppo":
                PpoPlots.Draw(run, dir, files, notes);
                break;
            case "qlearn":
                QLearningPlots.Draw(run, dir, files, notes);
                break;
            case "compare":
                ComparisonPlots.Draw(run, dir, files, notes);
                break;
            case "env-run":
                if (run.Table("episodes") is { } episodes)
                    files.Add(PpoPlots.Dashboard(episodes, "episode", "episode", Path.Combine(dir, "dashboard.png"), run.Id));
                else
                    notes.Add("no episodes.csv: no dashboard.");
                break;
            default:
                notes.Add($"runs of kind '{run.Kind}' have no plots.");
                break;
        }
        return new PlotResult(files, notes);
    }
}
