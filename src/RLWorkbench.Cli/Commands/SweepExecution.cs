using RLWorkbench.Experiments;
using RLWorkbench.Experiments.Sweeps;

namespace RLWorkbench.Cli.Commands;

/// <summary>
/// Runs a planned sweep from the command line (`sweep &lt;spec&gt;`, `ppo --seeds`, `qlearn --seeds`): takes the
/// sweep directory, runs the pending trials on the chosen backend under one progress display, turns Ctrl+C
/// into a clean stop of every worker (a second one kills them), and prints the report.
/// </summary>
internal static class SweepExecution
{
    /// <summary>What was run, for a caller that prints more (the seed summary of `ppo --seeds`).</summary>
    public sealed record Outcome(int ExitCode, string Directory, IReadOnlyList<TrialResult> Results);

    /// <summary>`sweep --dry-run`: what the spec expands to, so a large sweep can be checked before it costs hours.</summary>
    public static void DescribePlan(SweepManifest planned, string directory, string backendName, TextWriter output)
    {
        var configurations = planned.Configurations.Count;
        output.WriteLine($"Sweep {planned.Name} ({planned.Experiment}): {configurations} configuration{(configurations == 1 ? "" : "s")} x {planned.Seeds.Count} seed{(planned.Seeds.Count == 1 ? "" : "s")} ({string.Join(", ", planned.Seeds)}) = {planned.Trials.Count} trials, backend {backendName}, into {Path.GetFullPath(directory)}.");
        foreach (var configuration in planned.Configurations)
            output.WriteLine($"  {configuration.Key}  {configuration.Label}");
        output.WriteLine($"Trials in launch order: {string.Join(", ", planned.Trials.Select(t => t.Id))}.");
        if (File.Exists(Path.Combine(directory, SweepManifest.FileName)))
            output.WriteLine("That directory already holds a sweep: running this spec there continues it if it is the same sweep and is refused if not.");
        output.WriteLine("Nothing was run or written (--dry-run).");
    }

    /// <summary>Runs the sweep on <paramref name="backendName"/>, which the caller has checked with <see cref="SweepBackends.Check"/> (for Slurm that asks the controller, so once is enough).</summary>
    public static Outcome Run(SweepManifest planned, string directory, string backendName, bool plain, TextWriter output, TextWriter error)
    {
        using (var sweep = SweepDirectory.Open(directory, planned))
        {
            var runner = new SweepRunner(sweep, TimeProvider.System);
            output.WriteLine($"Sweep {sweep.Manifest.Name} ({sweep.Manifest.Experiment}) in {sweep.Path}");
            output.WriteLine(runner.Describe());
            using var stop = new StopSignal(error, SweepBackends.StopMessage(backendName), RepeatedSignal.Escalates);
            var backend = SweepBackends.Create(backendName, sweep.Manifest, stop.Escalated);
            // Before the first worker starts, so every worker finds the parent's id and tags its run as a child.
            using var parent = SweepTracking.StartParentAsync(sweep.Path, sweep.Manifest, error.WriteLine).GetAwaiter().GetResult();
            if (runner.ToRun.Count > 0)
            {
                output.WriteLine(backend is LocalSweepBackend local
                    ? $"Backend local: {local.Workers} worker process(es) at once; each trial's output is in its {SweepLayout.TrialLog}."
                    : $"Backend {backend.Name}.");
                SweepProgressDisplay.Run(runner, backend, plain, output, stop.Token);
            }
            output.WriteLine();
            var report = SweepReporting.Write(sweep.Path, output);
            parent.FinishAsync(SweepTracking.StatusOf(sweep.Path, sweep.Manifest, stop.Token.IsCancellationRequested), report).GetAwaiter().GetResult();
            var results = runner.Results();
            var unfinished = results.Count(r => r.State != TrialState.Finished);
            if (unfinished > 0)
                output.WriteLine(SweepBackends.UnfinishedMessage(backendName, unfinished, stop.Token.IsCancellationRequested));
            return new Outcome(unfinished == 0 ? CommandLine.Ok : CommandLine.Failure, sweep.Path, results);
        }
    }
}
