using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using RLWorkbench.Experiments;
using RLWorkbench.Experiments.Ppo;
using RLWorkbench.Tracking;

namespace RLWorkbench.Cli.Commands;

/// <summary>`ppo`: binds its options into a <see cref="PpoExperimentKind"/> configuration and runs the experiment (docs/ppo.md).</summary>
public static class PpoCommand
{
    public static Command Create()
    {
        var steps = new Option<long?>("--steps") { Description = "Environment steps to train (default: the config's, else the seed's 50,000). Whole rollouts, so it may end a little past." }.AnyNumber();
        var config = new Option<string?>("--config") { Description = "An experiment file, e.g. experiments/ppo-seed.json; command-line options and --set override it." };
        var seed = new Option<int?>("--seed") { Description = "Seed of the network init, action noise, shuffles and environments (default 0)." }.AnyNumber();
        var envs = new Option<int?>("--envs") { Description = "Parallel environments (default 4)." }.AnyNumber();
        var device = new Option<string?>("--device") { Description = "cpu, cuda or auto (default auto: cuda when this build and machine have it)." };
        var layout = new Option<string?>("--layout") { Description = "Observation layout: seed67 (default) or notebook94." };
        var variant = new Option<string?>("--variant") { Description = "Environment variant: base (default) or pool." };
        var output = new Option<string?>("--out") { Description = "Run directory (default: a new one under artifacts/runs)." };
        var resume = new Option<string?>("--resume") { Description = "A checkpoint (artifacts/checkpoint.bin of a run) to continue; the run's saved configuration is used and its curve continues." };
        var plain = new Option<bool>("--plain") { Description = "Plain progress lines instead of a live progress bar (automatic when output is redirected)." };
        var set = ExperimentOptions.Set();
        var seeds = SeedSweep.Option();
        var command = new Command("ppo", "Train PPO (SB3-equivalent, TorchSharp) on the Phase 1 task environment.");
        foreach (var o in new Option[] { steps, config, seed, envs, device, layout, variant, output, resume, plain, set, seeds })
            command.Options.Add(o);
        command.Subcommands.Add(PpoBenchCommand.Create());

        command.SetAction(result =>
        {
            var kind = new PpoExperimentKind();
            var writer = result.InvocationConfiguration.Output;
            var resumePath = result.GetValue(resume);
            SeedSweep.CheckOptions(result.GetValue(seeds), ("--resume", resumePath is not null), ("--seed", result.GetValue(seed) is not null));
            JsonObject configuration;
            string? resumeDirectory = null;
            if (resumePath is not null)
            {
                foreach (var (name, given) in new (string, bool)[]
                {
                    ("--config", result.GetValue(config) is not null), ("--seed", result.GetValue(seed) is not null), ("--envs", result.GetValue(envs) is not null),
                    ("--layout", result.GetValue(layout) is not null), ("--variant", result.GetValue(variant) is not null), ("--out", result.GetValue(output) is not null),
                })
                {
                    if (given)
                        throw new UsageException($"--resume continues with the run's saved configuration, so {name} cannot be given with it.");
                }
                resumeDirectory = RunOf(resumePath);
                configuration = kind.Load(Path.Combine(resumeDirectory, "config.json"));
            }
            else
            {
                configuration = result.GetValue(config) is { } path ? kind.Load(path) : kind.Defaults();
            }
            ExperimentOptions.Apply(configuration,
            [
                .. ExperimentOptions.Given(result, steps, "steps"),
                .. ExperimentOptions.Given(result, device, "device"),
                .. ExperimentOptions.Given(result, layout, "environment.layout"),
                .. ExperimentOptions.Given(result, variant, "environment.variant"),
                .. ExperimentOptions.Given(result, seed, "ppo.seed"),
                .. ExperimentOptions.Given(result, envs, "ppo.numEnvs"),
            ], result.GetValue(set));
            var experiment = (PpoExperiment)kind.Create(configuration);
            if (result.GetValue(seeds) is { } seedList)
                return SeedSweep.Run(kind, configuration, seedList, result.GetValue(output), result.GetValue(plain), writer, result.InvocationConfiguration.Error);
            if (resumePath is not null)
                experiment = experiment.ContinuingFrom(resumePath);

            writer.WriteLine("Resolved configuration:");
            writer.WriteLine(experiment.Configuration.ToJsonString(PpoRunConfig.Json));
            var store = new RunStore(RunStore.DefaultRoot);
            using var run = OpenRun(store, experiment, resumeDirectory, result.GetValue(output));
            writer.WriteLine(resumeDirectory is null ? $"Run directory: {run.Directory}" : $"Resuming {run.Directory}.");

            using var stop = new StopSignal(result.InvocationConfiguration.Error, "Stopping: finishing the step and saving a checkpoint (Ctrl+C again to quit at once)...");
            var outcome = BarProgress.Available(result.GetValue(plain))
                ? BarProgress.Show(progress => experiment.RunAsync(run, progress, stop.Token).GetAwaiter().GetResult())
                : experiment.RunAsync(run, new LineProgress(writer, PlainLine), stop.Token).GetAwaiter().GetResult();

            if (outcome.Outcome == ExperimentOutcome.Stopped)
            {
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Stopped. Checkpoint at step {outcome.Scores.Work:N0} saved; continue with: ppo --resume {PpoExperiment.CheckpointPath(run.Directory)} --steps {experiment.Settings.Steps}"));
                return CommandLine.Failure;
            }
            if (outcome.Outcome == ExperimentOutcome.Failed)
            {
                result.InvocationConfiguration.Error.WriteLine($"error: {outcome.Message}");
                return CommandLine.Failure;
            }
            writer.WriteLine(outcome.Message);
            writer.WriteLine($"Run saved in {run.Directory}");
            RunPlots.WriteAfterRun(run.Directory, writer, result.InvocationConfiguration.Error);
            return CommandLine.Ok;
        });
        return command;
    }

    /// <summary>The run directory a checkpoint belongs to (it holds status.json and config.json).</summary>
    private static string RunOf(string checkpointPath)
    {
        if (!File.Exists(checkpointPath))
            throw new UsageException(InputFile.Missing("checkpoint", checkpointPath, "give a run's artifacts/checkpoint.bin"));
        var dir = PpoModelFile.FindAbove(checkpointPath, RunStore.StatusFile);
        if (dir is null || !File.Exists(Path.Combine(dir, "config.json")))
            throw new UsageException($"checkpoint '{checkpointPath}' is not inside a ppo run directory, so there is no curve to continue.");
        return dir;
    }

    private static Run OpenRun(RunStore store, PpoExperiment experiment, string? resumeDirectory, string? outDirectory)
    {
        if (resumeDirectory is not null)
        {
            // Cut under the run's claim (a second resume cannot cut what a running one writes) and before the mirror
            // starts, so MLflow is told the repeated rows are to be sent again.
            return store.ReopenAfterStep(resumeDirectory, experiment.ContinueFromStep!.Value, PpoExperiment.Tables);
        }
        var versions = RunStore.DefaultVersions(typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString());
        return outDirectory is not null ? store.CreateIn(outDirectory, PpoExperimentKind.KindName, versions) : store.Create(PpoExperimentKind.KindName, versions);
    }

    private static string PlainLine(ProgressReport r) => string.Create(CultureInfo.InvariantCulture,
        $"step {r.Done,9:N0}/{r.Total:N0}  {r.UnitsPerSecond,6:N0} steps/s  {r.Detail}  RSS {PpoBenchCommand.Memory().Rss:F0} MB  ETA {r.Remaining:hh\\:mm\\:ss}");
}
