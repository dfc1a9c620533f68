using RLWorkbench.Experiments.Sweeps;

namespace RLWorkbench.Cli.Commands;

/// <summary>
/// The report of a sweep, printed by `sweep report &lt;dir&gt;` and when a sweep ends: the one call site for
/// the sweep report (RLWorkbench.Experiments.Sweeps.SweepReport, once merged). Until then, a table of
/// every trial with its configuration, seed, state and final score.
/// </summary>
internal static class SweepReporting
{
    public static void Write(string sweepDirectory, TextWriter output)
    {
        var manifest = SweepManifest.Load(sweepDirectory);
        var results = SweepResults.Read(manifest, sweepDirectory);
        output.WriteLine($"Sweep {manifest.Name} ({manifest.Experiment}), {SweepResults.Counts(results)}.");
        output.Write(SweepResults.TrialTable(results));
    }
}
