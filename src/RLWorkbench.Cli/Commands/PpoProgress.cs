using Spectre.Console;
using RLWorkbench.Ppo;

namespace RLWorkbench.Cli.Commands;

/// <summary>
/// Shows training progress: a live Spectre.Console bar (steps, steps/s, ep_rew_mean, ETA) on an
/// interactive terminal, or one plain line per rollout when output is redirected (CI, logs).
/// </summary>
public static class PpoProgress
{
    public static bool Run(PpoTrainer trainer, long totalSteps, ITrainingCallback recorder, TextWriter output, bool forcePlain, CancellationToken cancel)
    {
        var interactive = !forcePlain && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        if (!interactive)
            return trainer.Learn(totalSteps, new CallbackList(recorder, new PlainLines(output, totalSteps)), cancel);

        var completed = false;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(Describe(trainer, 0), maxValue: totalSteps);
                task.Value = trainer.TotalSteps;
                var bar = new BarUpdates(task, trainer.TotalSteps);
                completed = trainer.Learn(totalSteps, new CallbackList(recorder, bar), cancel);
            });
        return completed;
    }

    private static string Describe(PpoTrainer trainer, double stepsPerSecond) =>
        $"step {trainer.TotalSteps,9:N0}  {stepsPerSecond,6:N0} steps/s  ep_rew_mean {trainer.Episodes.MeanReturn,8:F1}";

    private sealed class BarUpdates(ProgressTask task, long startStep) : ITrainingCallback
    {
        private long lastShown = startStep;
        private double stepsPerSecond;

        public void OnStep(PpoTrainer trainer)
        {
            // Refreshing per vector step would cost more than the step; a few hundred steps is smooth enough.
            if (trainer.TotalSteps - lastShown < 512)
                return;
            lastShown = trainer.TotalSteps;
            task.Value = trainer.TotalSteps;
            task.Description = Describe(trainer, stepsPerSecond);
        }

        public void OnUpdateEnd(PpoTrainer trainer, UpdateMetrics metrics)
        {
            stepsPerSecond = metrics.StepsPerSecond;
            task.Value = trainer.TotalSteps;
            task.Description = Describe(trainer, stepsPerSecond);
        }
    }

    private sealed class PlainLines(TextWriter output, long totalSteps) : ITrainingCallback
    {
        public void OnUpdateEnd(PpoTrainer trainer, UpdateMetrics m)
        {
            var remaining = Math.Max(0, totalSteps - trainer.TotalSteps) / Math.Max(m.StepsPerSecond, 1e-9);
            output.WriteLine($"step {m.Step,9:N0}/{totalSteps:N0}  {m.StepsPerSecond,6:N0} steps/s  ep_rew_mean {m.EpisodeRewardMean,8:F1}  "
                + $"rollout {m.RolloutSeconds:F2} s  update {m.UpdateSeconds:F2} s  RSS {PpoBenchCommand.Memory().Rss:F0} MB  ETA {TimeSpan.FromSeconds(remaining):hh\\:mm\\:ss}");
        }
    }
}
