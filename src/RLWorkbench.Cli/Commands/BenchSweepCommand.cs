using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using RLWorkbench.Experiments;
using RLWorkbench.Experiments.Ppo;
using RLWorkbench.Experiments.Sweeps;

namespace RLWorkbench.Cli.Commands;

/// <summary>
/// `bench sweep`: what the local backend costs and gains (docs/benchmarks.md). One PPO trial alone, then
/// two at once, each a real sweep of worker processes: the total env steps/s of two against one, and the
/// runner's overhead per trial: the lone trial's sweep wall time that is not training (launching the
/// process, loading .NET and libtorch, building the environments and network, the final one-episode
/// evaluation, saving, exiting, and the runner noticing).
/// </summary>
internal static class BenchSweepCommand
{
    public static Command Create()
    {
        var steps = new Option<long>("--steps") { Description = "Training steps per trial (whole 8,192-step rollouts of the seed configuration).", DefaultValueFactory = _ => 32_768 }.Between(8192, 10_000_000);
        var output = new Option<string>("--out") { Description = "Where the benchmark's sweeps go (replaced on each run).", DefaultValueFactory = _ => Path.Combine("artifacts", "bench", "sweep") };
        var command = new Command("sweep", "Local sweep backend: total env steps/s of two PPO trials at once against one alone, and the runner's overhead per trial.") { steps, output };
        command.SetAction(result =>
        {
            var n = result.GetValue(steps);
            var writer = result.InvocationConfiguration.Output;
            var root = Path.GetFullPath(result.GetValue(output)!);
            if (Directory.Exists(root))
                Directory.Delete(root, recursive: true);

            var kind = new PpoExperimentKind();
            var configuration = kind.Defaults();
            // Training only, as far as a run allows: no periodic evaluation or checkpoint, a one-episode final evaluation.
            foreach (var (path, value) in new (string, long)[] { ("steps", n), ("evalEverySteps", 0), ("checkpointEverySteps", 0), ("finalEvalEpisodes", 1) })
                ConfigPaths.Set(configuration, path, System.Text.Json.Nodes.JsonValue.Create(value));
            writer.WriteLine($"Local sweep backend, ppo seed configuration, {n:N0} steps per trial; {Environment.ProcessorCount} cores, load average {LoadAverage()} (others' work counts against these figures).");

            var alone = Measure(kind, configuration, [0], Path.Combine(root, "alone"), writer);
            var pair = Measure(kind, configuration, [0, 1], Path.Combine(root, "pair"), writer);
            var aloneRate = n / alone.WallSeconds;
            var pairRate = 2.0 * n / pair.WallSeconds;
            writer.WriteLine();
            writer.WriteLine($"{"case",-28} {"wall s",8} {"env steps/s (wall)",19} {"training steps/s (sum)",23}");
            writer.WriteLine($"{"one trial alone",-28} {alone.WallSeconds,8:F1} {aloneRate,19:N0} {alone.TrainingRates.Sum(),23:N0}");
            writer.WriteLine($"{"two trials at once",-28} {pair.WallSeconds,8:F1} {pairRate,19:N0} {pair.TrainingRates.Sum(),23:N0}");
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Two at once over one alone: {pairRate / aloneRate:F2}x by wall clock, {pair.TrainingRates.Sum() / alone.TrainingRates.Sum():F2}x by training rate (target at least 1.8x)."));
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Runner overhead per trial (the lone trial's sweep wall time minus its training time): {alone.WallSeconds - alone.TrainingSeconds[0]:F2} s (target under 2 s)."));
            return CommandLine.Ok;
        });
        return command;
    }

    private sealed record Measurement(double WallSeconds, double[] TrainingRates, double[] TrainingSeconds);

    private static Measurement Measure(IExperimentKind kind, System.Text.Json.Nodes.JsonObject configuration, long[] seeds, string directory, TextWriter writer)
    {
        var manifest = SweepPlanner.ForSeeds(kind, configuration, seeds, Path.GetFileName(directory), TimeProvider.System.GetUtcNow());
        using var sweep = SweepDirectory.Open(directory, manifest);
        var backend = new LocalSweepBackend(seeds.Length);
        var clock = Stopwatch.StartNew();
        backend.RunAsync(manifest, sweep.Path, manifest.Trials, writer.WriteLine, CancellationToken.None).GetAwaiter().GetResult();
        var wall = clock.Elapsed.TotalSeconds;
        var results = SweepResults.Read(manifest, sweep.Path);
        if (results.Any(r => r.State != TrialState.Finished || r.Scores?.WorkPerSecond is null))
            throw new InvalidOperationException($"a benchmark trial did not finish; see the trial logs under {sweep.Path}.");
        var rates = results.Select(r => r.Scores!.WorkPerSecond!.Value).ToArray();
        var trainingSeconds = results.Select(r => r.Scores!.Work / r.Scores.WorkPerSecond!.Value).ToArray();
        writer.WriteLine($"  {seeds.Length} trial(s): {wall:F1} s wall, training {string.Join(", ", rates.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))} steps/s.");
        return new Measurement(wall, rates, trainingSeconds);
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";
}
