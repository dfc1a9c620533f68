using System.CommandLine;
using RLWorkbench.Gym;
using RLWorkbench.Gym.Random;
using RLWorkbench.Experiments;
using RLWorkbench.Experiments.Ppo;
using RLWorkbench.Ppo;
using RLWorkbench.Simulation;
using RLWorkbench.Tracking;

namespace RLWorkbench.Cli.Commands;

/// <summary>`eval`: plays a saved PPO model on the Phase 1 environment and prints the spread of its returns.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A model or checkpoint written by ppo (best_model.bin, final_model.bin, checkpoint.bin).", Required = true };
        var episodes = new Option<int>("--episodes") { Description = "Episodes to play.", DefaultValueFactory = _ => 10 }.Between(1, 100_000);
        var seed = new Option<int>("--seed") { Description = "Episode k starts from seed + k.", DefaultValueFactory = _ => 1_000_000 }.Between(0, int.MaxValue);
        var stochastic = new Option<bool>("--stochastic") { Description = "Sample actions from the policy instead of taking the mean (deterministic is the default)." };
        var device = new Option<string>("--device") { Description = "cpu, cuda or auto.", DefaultValueFactory = _ => "cpu" };
        var layout = new Option<string?>("--layout") { Description = "Observation layout (default: the one the model's run used, else seed67)." };
        var variant = new Option<string?>("--variant") { Description = "Environment variant (default: the one the model's run used, else base)." };
        var command = new Command("eval", "Evaluate a trained PPO model: mean, std, min/max return and task completion rate.");
        foreach (var o in new Option[] { model, episodes, seed, stochastic, device, layout, variant })
            command.Options.Add(o);
        command.SetAction(result =>
        {
            var path = result.GetValue(model)!;
            var count = result.GetValue(episodes);
            EnvCommand.CheckEpisodeSeeds(result.GetValue(seed), count);
            var deviceName = result.GetValue(device)!;
            if (!ComputeDevice.IsKnown(deviceName))
                throw new UsageException($"unknown device '{deviceName}'; allowed: {string.Join(", ", ComputeDevice.Choices)}.");
            var checkpoint = PpoModelFile.Load(path, InputFile.Missing("model", path));
            var runEnvironment = RunEnvironment(path);
            var environment = new PpoEnvironmentConfig
            {
                Layout = result.GetValue(layout) ?? runEnvironment?.Layout ?? "seed67",
                Variant = result.GetValue(variant) ?? runEnvironment?.Variant ?? "base",
                Agents = runEnvironment?.Agents ?? 4,
            };
            var envOptions = environment.Options();
            TorchSharp.torch.Device torchDevice;
            try
            {
                torchDevice = ComputeDevice.Resolve(deviceName);
            }
            catch (DeviceUnavailableException e)
            {
                throw new UsageException(e.Message);
            }

            var envs = Enumerable.Range(0, Math.Min(count, 32)).Select(i => (IEnv)new TaskEnvironment(envOptions, seed: i)).ToList();
            try
            {
                var envShape = PolicyShape.For(envs[0].ObservationSpace, envs[0].ActionSpace);
                if (!envShape.SameAs(checkpoint.Shape))
                    throw new UsageException($"the model was trained on {checkpoint.Shape}, but {environment.Variant}/{environment.Layout} is {envShape}; pick the matching --layout/--variant.");
                using var policy = checkpoint.CreatePolicy(torchDevice);
                var deterministic = !result.GetValue(stochastic);
                var s = result.GetValue(seed);
                var results = PolicyEvaluation.Run(policy, envs, count, s, deterministic, deterministic ? null : new SeededRandomSource(s));
                var summary = EvaluationSummary.Of(results);
                var output = result.InvocationConfiguration.Output;
                output.WriteLine($"Model {path} (trained {checkpoint.TotalSteps:N0} steps) on {environment.Variant}/{environment.Layout}, "
                    + $"{count} {(deterministic ? "deterministic" : "stochastic")} episodes from seed {s}:");
                output.WriteLine($"  return mean {summary.Mean:F2}, std {summary.Std:F2}, min {summary.Min:F2}, max {summary.Max:F2}");
                output.WriteLine($"  task completion rate (completed / (completed + waiting)) {summary.CompletionRate:P1}");
                return CommandLine.Ok;
            }
            finally
            {
                foreach (var env in envs)
                    env.Dispose();
            }
        });
        return command;
    }

    /// <summary>The environment settings of the run a model file sits in, if it sits in one.</summary>
    private static PpoEnvironmentConfig? RunEnvironment(string modelPath)
    {
        var dir = PpoModelFile.FindAbove(modelPath, "config.json");
        if (dir is null)
            return null;
        try
        {
            return ConfigurationJson.Bind<PpoRunConfig>(new PpoExperimentKind().Load(Path.Combine(dir, "config.json")), PpoRunConfig.Json).Environment;
        }
        catch (ExperimentConfigException)
        {
            return null;
        }
    }
}
