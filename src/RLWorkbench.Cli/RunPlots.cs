using RLWorkbench.Tracking;
using RLWorkbench.Tracking.Plots;

namespace RLWorkbench.Cli;

/// <summary>Draws a finished run's figures next to it, so every training command leaves plots to look at.</summary>
public static class RunPlots
{
    /// <summary>Plots the run; a figure that cannot be drawn is a warning, never a failed run.</summary>
    public static void WriteAfterRun(string runDirectory, TextWriter output, TextWriter error)
    {
        try
        {
            var result = RunPlotter.Plot(RunReader.Read(runDirectory));
            if (result.Files.Count > 0)
                output.WriteLine($"Plots: {result.Files.Count} PNG files in {Path.GetDirectoryName(result.Files[0])} (redraw with: rlw plot {runDirectory})");
            foreach (var note in result.Notes)
                error.WriteLine($"note: {note}");
        }
        catch (Exception e) when (e is IOException or RunFormatException or InvalidOperationException or ArgumentException)
        {
            error.WriteLine($"warning: the plots could not be drawn; the run's files are kept as they are ({e.Message}).");
        }
    }
}
