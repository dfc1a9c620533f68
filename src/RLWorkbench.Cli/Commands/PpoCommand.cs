using System.CommandLine;
using System.Text.Json;
using RLWorkbench.Gym;
using RLWorkbench.Ppo;
using RLWorkbench.Simulation;
using RLWorkbench.Tracking;

namespace RLWorkbench.Cli.Commands;

/// <summary>`ppo`: trains the TorchSharp PPO on the Phase 1 environment (docs/ppo.md).</summary>
public static class PpoCommand
{
    public static Command Create()
    {
        var steps = new Option<long?>("--steps") { Description = "Environment steps to train (default: the config's, else the seed's 50,000). Whole rollouts, so it may end a little past." };
        var config = new Option<string?>("--config") { Description = "An experiment file, e.g. experiments/ppo-seed.json; command-line options override it." };
        var seed = new Option<int?>("--seed") { Description = "Seed of the network init, action noise, shuffles and environments (default 0)." };
        var envs = new Option<int?>("--envs") { Description = "Parallel environments (default 4)." };
        var device = new Option<string?>("--device") { Description = "cpu, cuda or auto (default auto: cuda when this build and machine have it)." };
        var layout = new Option<string?>("--layout") { Description = "Observation layout: seed67 (default) or notebook94." };
        var variant = new Option<string?>("--variant") { Description = "Environment variant: base (default) or pool." };
        var output = new Option<string?>("--out") { Description = "Run directory (default: a new one under artifacts/runs)." };
        var resume = new Option<string?>("--resume") { Description = "A checkpoint (artifacts/checkpoint.bin of a run) to continue; the run's saved configuration is used and its curve continues." };
        var plain = new Option<bool>("--plain") { Description = "Plain progress lines instead of a live progress bar (automatic when output is redirected)." };
        var command = new Command("ppo", "Train PPO (SB3-equivalent, TorchSharp) on the Phase 1 task environment.");
        foreach (var o in new Option[] { steps, config, seed, envs, device, layout, variant, output, resume, plain })
            command.Options.Add(o);
        command.Subcommands.Add(PpoBenchCommand.Create());

        command.SetAction(result =>
        {
            var writer = result.InvocationConfiguration.Output;
            var resumePath = result.GetValue(resume);
            PpoRunConfig resolved;
            PpoCheckpoint? checkpoint = null;
            string? resumeRunDirectory = null;
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
                (checkpoint, resumeRunDirectory, resolved) = LoadResume(resumePath);
                resolved = resolved with
                {
                    Steps = result.GetValue(steps) ?? resolved.Steps,
                    Device = result.GetValue(device) ?? resolved.Device,
                };
            }
            else
            {
                var baseConfig = result.GetValue(config) is { } path ? PpoRunConfig.Load(path) : new PpoRunConfig();
                resolved = baseConfig with
                {
                    Steps = result.GetValue(steps) ?? baseConfig.Steps,
                    Device = result.GetValue(device) ?? baseConfig.Device,
                    Environment = baseConfig.Environment with
                    {
                        Layout = result.GetValue(layout) ?? baseConfig.Environment.Layout,
                        Variant = result.GetValue(variant) ?? baseConfig.Environment.Variant,
                    },
                    Ppo = baseConfig.Ppo with
                    {
                        Seed = result.GetValue(seed) ?? baseConfig.Ppo.Seed,
                        NumEnvs = result.GetValue(envs) ?? baseConfig.Ppo.NumEnvs,
                    },
                };
            }
            resolved = resolved.Validated();
            var envOptions = resolved.EnvironmentOptions();
            TorchSharp.torch.Device torchDevice;
            try
            {
                torchDevice = ComputeDevice.Resolve(resolved.Device);
            }
            catch (DeviceUnavailableException e)
            {
                throw new UsageException(e.Message);
            }
            ComputeDevice.ConfigureThreads(resolved.Threads);

            using var trainer = new PpoTrainer(resolved.Ppo, i => new TaskEnvironment(envOptions, seed: resolved.Ppo.Seed + i), torchDevice);
            if (resolved.Threads is null && torchDevice.type == TorchSharp.DeviceType.CPU)
                trainer.ThreadTuner = ComputeDevice.AutoThreads(resolved.Ppo);
            if (checkpoint is not null)
            {
                try
                {
                    trainer.Restore(checkpoint);
                }
                catch (InvalidDataException e)
                {
                    throw new UsageException($"cannot resume from {resumePath}: {e.Message}");
                }
                if (trainer.TotalSteps >= resolved.Steps)
                    throw new UsageException($"the checkpoint is already at step {trainer.TotalSteps:N0}; give --steps above that to continue.");
            }

            writer.WriteLine("Resolved configuration:");
            writer.WriteLine(JsonSerializer.Serialize(resolved, PpoRunConfig.Json));
            var threadsNote = trainer.ThreadTuner is null ? $"{TorchSharp.torch.get_num_threads()}" : $"1 or {trainer.ThreadTuner.MaxThreads} for the update, whichever measures faster";
            writer.WriteLine($"Device {torchDevice.type}, libtorch threads {threadsNote}, network {trainer.Shape}, {trainer.Policy.Parameters.Count:N0} parameters.");

            var versions = RunStore.DefaultVersions(typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString());
            versions["device"] = torchDevice.type.ToString().ToLowerInvariant();
            // Through a store so a configured MLflow mirror follows the run, and a resume continues the same mirrored run.
            var store = new RunStore(RunStore.DefaultRoot);
            if (resumeRunDirectory is not null)
                RunStore.DropRowsAfter(resumeRunDirectory, trainer.TotalSteps, "metrics", "eval", "episodes");
            using var run = resumeRunDirectory is not null
                ? store.Reopen(resumeRunDirectory)
                : result.GetValue(output) is { } dir ? store.CreateIn(dir, "ppo", versions) : store.Create("ppo", versions);
            if (resumeRunDirectory is not null)
            {
                run.MarkRunning();
                run.SetTag("resumed_from_step", trainer.TotalSteps.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            run.WriteConfig(resolved);
            writer.WriteLine(resumeRunDirectory is null ? $"Run directory: {run.Directory}" : $"Resuming {run.Directory} at step {trainer.TotalSteps:N0}.");

            var evalEnvs = Enumerable.Range(0, resolved.EvalEpisodes).Select(i => (IEnv)new TaskEnvironment(envOptions, seed: i)).ToList();
            try
            {
                var recorder = new PpoRunRecorder(run, resolved, evalEnvs, trainer.TotalSteps,
                    resumeRunDirectory is null ? double.NegativeInfinity : PpoRunRecorder.BestInEvalTable(run.Directory));
                using var stop = new StopSignal(result.InvocationConfiguration.Error, "Stopping: finishing the step and saving a checkpoint (Ctrl+C again to quit at once)...");
                bool completed;
                try
                {
                    completed = PpoProgress.Run(trainer, resolved.Steps, recorder, writer, result.GetValue(plain), stop.Token);
                }
                catch
                {
                    run.Finish(RunStatus.Failed, "training threw; see the console");
                    throw;
                }

                trainer.ToCheckpoint().Save(PpoRunRecorder.CheckpointPath(run));
                if (!completed)
                {
                    writer.WriteLine($"Stopped. Checkpoint at step {trainer.TotalSteps:N0} saved; continue with: ppo --resume {PpoRunRecorder.CheckpointPath(run)} --steps {resolved.Steps}");
                    run.Finish(RunStatus.Killed, $"stopped by the user; checkpoint at step {trainer.TotalSteps}");
                    return CommandLine.Failure;
                }
                trainer.ToCheckpoint().Save(run.ArtifactPath("final_model.bin"));
                var final = PolicyEvaluation.Run(trainer.Policy, evalEnvs, resolved.EvalEpisodes, PpoRunRecorder.EvaluationSeed(resolved));
                var summary = EvaluationSummary.Of(final);
                run.WriteJson("summary.json", new
                {
                    trainer.TotalSteps,
                    trainer.ElapsedSeconds,
                    StepsPerSecond = trainer.TotalSteps / Math.Max(trainer.ElapsedSeconds, 1e-9),
                    EpisodeRewardMean = trainer.Episodes.MeanReturn,
                    FinalEvaluation = summary,
                    BestEvaluationMean = recorder.BestMeanReward,
                });
                writer.WriteLine($"Done: {trainer.TotalSteps:N0} steps in {trainer.ElapsedSeconds:F1} s ({trainer.TotalSteps / Math.Max(trainer.ElapsedSeconds, 1e-9):N0} steps/s); "
                    + $"ep_rew_mean {trainer.Episodes.MeanReturn:F1}; final deterministic evaluation {summary.Mean:F1} +- {summary.Std:F1} "
                    + $"(best {recorder.BestMeanReward:F1}), completion rate {summary.CompletionRate:P1}.");
                writer.WriteLine($"Run saved in {run.Directory}");
                run.Finish(RunStatus.Finished);
                RunPlots.WriteAfterRun(run.Directory, writer, result.InvocationConfiguration.Error);
                return CommandLine.Ok;
            }
            finally
            {
                foreach (var env in evalEnvs)
                    env.Dispose();
            }
        });
        return command;
    }

    /// <summary>Finds the run a checkpoint belongs to (its directory holds status.json) and reads its configuration.</summary>
    private static (PpoCheckpoint, string, PpoRunConfig) LoadResume(string path)
    {
        var checkpoint = PpoModelFile.Load(path, $"checkpoint '{path}' does not exist; give a run's artifacts/checkpoint.bin.");
        var dir = PpoModelFile.FindAbove(path, "status.json");
        if (dir is null || !File.Exists(Path.Combine(dir, "config.json")))
            throw new UsageException($"checkpoint '{path}' is not inside a ppo run directory, so there is no curve to continue.");
        PpoRunConfig config;
        try
        {
            config = JsonSerializer.Deserialize<PpoRunConfig>(File.ReadAllText(Path.Combine(dir, "config.json")), PpoRunConfig.Json)
                ?? throw new UsageException($"{dir}/config.json is empty.");
        }
        catch (JsonException e)
        {
            throw new UsageException($"{dir}/config.json is not a ppo configuration: {e.Message}");
        }
        return (checkpoint, dir, config with { Ppo = checkpoint.Options });
    }
}
