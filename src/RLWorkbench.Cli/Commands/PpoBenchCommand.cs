using System.CommandLine;
using System.Diagnostics;
using RLWorkbench.Gym;
using RLWorkbench.Ppo;
using RLWorkbench.Simulation;

namespace RLWorkbench.Cli.Commands;

/// <summary>
/// `ppo bench`: where a training cycle's time goes for the seed configuration - rollout, update, time
/// per minibatch step, steps per second overall, and resident memory after every rollout (flat means
/// no tensor leaks). A measurement to write down in docs/ppo.md, never a timed unit test.
/// </summary>
public static class PpoBenchCommand
{
    public static Command Create()
    {
        var rollouts = new Option<int>("--rollouts") { Description = "Measured rollouts (after one warm-up rollout).", DefaultValueFactory = _ => 4 }.Between(1, 10_000);
        var threads = new Option<int?>("--threads") { Description = "libtorch intra-op threads for the update (default: chosen by measuring, as `ppo` does; give 1 to compare code changes)." }.Between(1, 256);
        var withEval = new Option<bool>("--with-eval") { Description = "Include the 10-episode evaluation every 5000 steps, as `ppo` runs it." };
        var tensorLoss = new Option<bool>("--tensor-loss") { Description = "Compute the loss with tensor ops instead of on the host (the path before the host loss; for A/B)." };
        var from = new Option<string?>("--from") { Description = "Start from a checkpoint of a seed-configuration run (weights, Adam moments, options), e.g. a 1M-step run's final_model.bin, to measure late-run speed." };
        var command = new Command("bench", "Measure PPO training throughput for the seed configuration (rollout vs update time, steps/s, RSS).");
        command.Options.Add(rollouts);
        command.Options.Add(threads);
        command.Options.Add(withEval);
        command.Options.Add(tensorLoss);
        command.Options.Add(from);
        command.Subcommands.Add(PpoAdamBenchCommand.Create());
        command.SetAction(result =>
        {
            var n = result.GetValue(rollouts);
            var output = result.InvocationConfiguration.Output;
            ComputeDevice.ConfigureThreads(result.GetValue(threads));
            var checkpoint = result.GetValue(from) is { } path ? PpoModelFile.Load(path, $"--from: no checkpoint at {path}.") : null;
            var options = (checkpoint?.Options ?? new PpoOptions()) with { TensorLoss = result.GetValue(tensorLoss) };
            var envOptions = new TaskEnvironmentOptions();
            using var trainer = new PpoTrainer(options, i => new TaskEnvironment(envOptions, seed: i), TorchSharp.torch.CPU);
            if (result.GetValue(threads) is null)
                trainer.ThreadTuner = ComputeDevice.AutoThreads(options);
            if (checkpoint is not null)
            {
                try
                {
                    trainer.Restore(checkpoint);
                }
                catch (InvalidDataException e)
                {
                    throw new UsageException($"--from: {e.Message}");
                }
            }
            var evalEnvs = Enumerable.Range(0, 10).Select(i => (IEnv)new TaskEnvironment(envOptions, seed: 100 + i)).ToList();
            var evaluator = new PeriodicEvaluation(evalEnvs, result.GetValue(withEval) ? 5000 : 0);
            output.WriteLine($"PPO seed configuration: {options.NumEnvs} envs x {options.StepsPerEnv} steps, minibatch {options.MinibatchSize}, {options.Epochs} epochs, "
                + $"{trainer.Policy.Parameters.Count:N0} parameters; {Environment.ProcessorCount} cores, libtorch threads {(trainer.ThreadTuner is null ? TorchSharp.torch.get_num_threads().ToString() : "auto")}, "
                + $"evaluation {(result.GetValue(withEval) ? "every 5000 steps" : "off")}, loss {(PpoTrainer.UsesHostLoss(options, trainer.Policy, TorchSharp.torch.CPU) ? "on the host" : "tensor ops")}"
                + (checkpoint is null ? "." : $"; from {result.GetValue(from)} at step {checkpoint.TotalSteps:N0}, {checkpoint.OptimizerSteps:N0} Adam steps."));
            output.WriteLine($"{"rollout",7} {"step",9} {"rollout s",9} {"update s",9} {"eval s",7} {"ms/minibatch",12} {"steps/s",8} {"RSS MB",7} {"peak MB",8} {"ep_rew_mean",11} {"multi-thread steps",18}");
            var measured = new List<(double Rollout, double Update, double Eval, double Total, int GradientSteps)>();
            for (var k = 0; k <= n; k++)
            {
                evaluator.Seconds = 0;
                var multiThreadBefore = trainer.ThreadTuner?.StepsRun.AllThreads ?? 0;
                var clock = Stopwatch.StartNew();
                trainer.Learn(trainer.TotalSteps + options.RolloutSize, evaluator);
                var total = clock.Elapsed.TotalSeconds;
                var m = trainer.LastMetrics!;
                var (rss, peak) = Memory();
                output.WriteLine($"{(k == 0 ? "warm-up" : k.ToString()),7} {m.Step,9:N0} {m.RolloutSeconds - evaluator.Seconds,9:F3} {m.UpdateSeconds,9:F3} {evaluator.Seconds,7:F3} "
                    + $"{1000 * m.UpdateSeconds / m.GradientSteps,12:F3} {options.RolloutSize / total,8:N0} {rss,7:F0} {peak,8:F0} {m.EpisodeRewardMean,11:F1} {((trainer.ThreadTuner?.StepsRun.AllThreads ?? 0) - multiThreadBefore) / (double)m.GradientSteps,18:P0}");
                if (k > 0)
                    measured.Add((m.RolloutSeconds - evaluator.Seconds, m.UpdateSeconds, evaluator.Seconds, total, m.GradientSteps));
            }
            var rolloutMean = measured.Average(x => x.Rollout);
            var updateMean = measured.Average(x => x.Update);
            var evalMean = measured.Average(x => x.Eval);
            var totalMean = measured.Average(x => x.Total);
            output.WriteLine($"Mean of {n}: rollout {rolloutMean:F3} s ({1e6 * rolloutMean / options.RolloutSize:F1} us per env step), update {updateMean:F3} s "
                + $"({1000 * updateMean / measured[0].GradientSteps:F3} ms per minibatch step), evaluation {evalMean:F3} s, "
                + $"overall {options.RolloutSize / totalMean:N0} env steps/s; peak RSS {Memory().Peak:F0} MB.");
            output.WriteLine($"Adam moments at the end: {MomentShares(trainer.Optimizer)}.");
            foreach (var env in evalEnvs)
                env.Dispose();
            return CommandLine.Ok;
        });
        return command;
    }

    /// <summary>The shares of exactly-zero and subnormal Adam moments: what makes a plain sqrt slow (`ppo bench adam`).</summary>
    private static string MomentShares(FlatAdam adam)
    {
        static string Shares(string name, float[] values) =>
            $"{name} {values.Count(x => x == 0) / (double)values.Length:P1} zero, {values.Count(float.IsSubnormal) / (double)values.Length:P1} subnormal";
        return $"{Shares("first", HostTransfer.ToArray(adam.FirstMoment))}; {Shares("second", HostTransfer.ToArray(adam.SecondMoment))}";
    }

    /// <summary>Current and peak resident set size in MB, from /proc (NaN where there is no /proc).</summary>
    public static (double Rss, double Peak) Memory()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status))
            return (double.NaN, double.NaN);
        double rss = double.NaN, peak = double.NaN;
        foreach (var line in File.ReadLines(status))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                rss = ParseKb(line) / 1024;
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                peak = ParseKb(line) / 1024;
        }
        return (rss, peak);
    }

    private static double ParseKb(string line) =>
        double.Parse(line.Split(':')[1].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);

    private sealed class PeriodicEvaluation(IReadOnlyList<IEnv> envs, long every) : ITrainingCallback
    {
        private long next;

        public double Seconds { get; set; }

        public TrainingDecision OnStep(ITrainingContext training)
        {
            if (every <= 0 || training.TotalSteps < Math.Max(next, every))
                return TrainingDecision.Continue;
            next = (training.TotalSteps / every + 1) * every;
            var clock = Stopwatch.StartNew();
            training.EvaluateDeterministic(envs, envs.Count, seed: 1_000_000);
            Seconds += clock.Elapsed.TotalSeconds;
            return TrainingDecision.Continue;
        }
    }
}
