using RLWorkbench.Gym;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo.Tests;

public class CallbackTests
{
    /// <summary>A training run as a callback sees it, with evaluation returns scripted by the test.</summary>
    private sealed class ScriptedTraining(params double[] evaluationMeans) : ITrainingContext
    {
        private readonly Queue<double> means = new(evaluationMeans);

        public long TotalSteps { get; set; }

        public int Updates { get; set; }

        public double ElapsedSeconds => 0;

        public double EpisodeRewardMean => double.NaN;

        public double EpisodeLengthMean => double.NaN;

        public List<long> EvaluatedAt { get; } = [];

        public List<(string Path, long Step)> Saved { get; } = [];

        public IReadOnlyList<EvaluationEpisode> EvaluateDeterministic(IReadOnlyList<IEnv> envs, int episodes, int seed)
        {
            EvaluatedAt.Add(TotalSteps);
            var mean = means.Dequeue();
            // Two episodes whose mean is the scripted value and whose spread is 1.
            return [new EvaluationEpisode(mean - 1, 5, new Dictionary<string, double>()), new EvaluationEpisode(mean + 1, 5, new Dictionary<string, double>())];
        }

        public void SaveCheckpoint(string path) => Saved.Add((path, TotalSteps));
    }

    private static readonly IReadOnlyList<IEnv> OneEnv = [new TargetReaching(0)];

    /// <summary>Steps a scripted run 4 environment steps at a time until a callback stops it or the steps run out.</summary>
    private static List<TrainingDecision> Drive(ITrainingCallback callback, ScriptedTraining training, long until)
    {
        var decisions = new List<TrainingDecision>();
        while (training.TotalSteps < until)
        {
            training.TotalSteps += 4;
            var decision = callback.OnStep(training);
            decisions.Add(decision);
            if (decision == TrainingDecision.Stop)
                break;
        }
        return decisions;
    }

    [Fact]
    public void A_stop_decision_in_a_rollout_ends_training_at_that_step_without_an_update()
    {
        var options = new PpoOptions { NumEnvs = 2, StepsPerEnv = 16, MinibatchSize = 8, Epochs = 2, HiddenSizes = [16], Seed = 4 };
        using var trainer = new PpoTrainer(options, i => new TargetReaching(i), CPU);
        var outcome = trainer.Learn(1000, new StopWhen(onStep: t => t.TotalSteps == 40));
        Assert.Equal(TrainingOutcome.StoppedByCallback, outcome);
        Assert.Equal(40, trainer.TotalSteps);
        Assert.Equal(1, trainer.Updates);
        Assert.Equal(32, trainer.LastMetrics!.Step);
    }

    [Fact]
    public void A_stop_decision_after_an_update_ends_training_at_that_rollout_end()
    {
        var options = new PpoOptions { NumEnvs = 2, StepsPerEnv = 16, MinibatchSize = 8, Epochs = 2, HiddenSizes = [16], Seed = 4 };
        using var trainer = new PpoTrainer(options, i => new TargetReaching(i), CPU);
        var outcome = trainer.Learn(1000, new StopWhen(onUpdateEnd: t => t.Updates == 2));
        Assert.Equal(TrainingOutcome.StoppedByCallback, outcome);
        Assert.Equal(64, trainer.TotalSteps);
        Assert.Equal(2, trainer.Updates);
        Assert.Equal(TrainingOutcome.Completed, trainer.Learn(96));
        Assert.Equal(96, trainer.TotalSteps);
    }

    [Fact]
    public void Every_callback_of_a_list_is_called_even_when_an_earlier_one_stops()
    {
        var later = 0;
        var list = new CallbackList(new StopWhen(onStep: _ => true), new StopWhen(onStep: _ => { later++; return false; }));
        Assert.Equal(TrainingDecision.Stop, list.OnStep(new ScriptedTraining()));
        Assert.Equal(1, later);
    }

    [Fact]
    public void Evaluation_runs_at_the_first_step_at_or_after_each_scheduled_step()
    {
        var periodic = new ScriptedTraining(1, 2, 3, 4);
        var byCount = new EvaluationCallback(OneEnv, 2, seed: 0, StepSchedule.Every(10));
        Drive(byCount, periodic, 40);
        Assert.Equal([12L, 20, 32, 40], periodic.EvaluatedAt);

        var milestones = new ScriptedTraining(1, 2);
        var atSteps = new EvaluationCallback(OneEnv, 2, seed: 0, StepSchedule.At([100, 25, 26]));
        Drive(atSteps, milestones, 120);
        Assert.Equal([28L, 100], milestones.EvaluatedAt);

        // Continuing from step 20: the evaluation at 20 belongs to the earlier part of the run.
        var continued = new ScriptedTraining(1) { TotalSteps = 20 };
        Drive(new EvaluationCallback(OneEnv, 2, seed: 0, StepSchedule.Every(10), startStep: 20), continued, 32);
        Assert.Equal([32L], continued.EvaluatedAt);
    }

    /// <summary>Steps a scripted run 4 environment steps at a time, with an update every <paramref name="rollout"/> steps.</summary>
    private static void DriveRollouts(ITrainingCallback callback, ScriptedTraining training, long rollout, long until)
    {
        while (training.TotalSteps < until)
        {
            training.TotalSteps += 4;
            callback.OnStep(training);
            if (training.TotalSteps % rollout == 0)
            {
                training.Updates++;
                callback.OnUpdateEnd(training, new UpdateMetrics(training.TotalSteps, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, false));
            }
        }
    }

    [Fact]
    public void After_updates_evaluation_runs_once_per_new_policy_at_the_first_update_end_at_or_after_each_scheduled_step()
    {
        // Rollouts of 12 steps and an evaluation every 5: mid-rollout that is 8 (the initial policy), 12, 16 (the policy
        // of 12 again), 20 ...; after updates it is each update end, and the 20 and 25 slots fold into 24's and 36's.
        var midRollout = new ScriptedTraining(1, 2, 3, 4, 5, 6, 7, 8, 9);
        DriveRollouts(new EvaluationCallback(OneEnv, 2, seed: 0, StepSchedule.Every(5)), midRollout, rollout: 12, until: 48);
        Assert.Equal([8L, 12, 16, 20, 28, 32, 36, 40, 48], midRollout.EvaluatedAt);

        var afterUpdates = new ScriptedTraining(1, 2, 3, 4);
        DriveRollouts(new EvaluationCallback(OneEnv, 2, seed: 0, StepSchedule.Every(5)) { AfterUpdates = true }, afterUpdates, rollout: 12, until: 48);
        Assert.Equal([12L, 24, 36, 48], afterUpdates.EvaluatedAt);
    }

    [Fact]
    public void A_final_evaluation_that_beats_the_best_becomes_the_best_model_without_counting_as_a_periodic_one()
    {
        var training = new ScriptedTraining(5, 3);
        var callback = new EvaluationCallback(OneEnv, 2, seed: 0, StepSchedule.Every(8)) { BestModelPath = "best.bin" };
        Drive(callback, training, 16);
        training.TotalSteps = 20;
        Assert.False(callback.Consider(training, new EvaluationSummary(100, 4.5, 1, 3, 6, double.NaN, 5)));
        Assert.Equal(5, callback.BestMeanReward);
        Assert.Equal(8, callback.BestStep);
        Assert.True(callback.Consider(training, new EvaluationSummary(100, 6, 1, 5, 7, double.NaN, 5)));
        Assert.Equal(6, callback.BestMeanReward);
        Assert.Equal(20, callback.BestStep);
        Assert.Equal([("best.bin", 8L), ("best.bin", 20)], training.Saved);
        Assert.Equal(2, callback.Evaluations);
    }

    [Fact]
    public void Evaluation_reports_every_row_and_saves_only_improvements_as_the_best_model()
    {
        var training = new ScriptedTraining(5, 3, 7, 7, 6);
        var rows = new List<(long Step, double Mean, double Std, double Length)>();
        var callback = new EvaluationCallback(OneEnv, 2, seed: 0, StepSchedule.Every(8), bestSoFar: 4)
        {
            BestModelPath = "best.bin",
            Evaluated = (step, s) => rows.Add((step, s.Mean, s.Std, s.MeanLength)),
        };
        var decisions = Drive(callback, training, 40);
        Assert.All(decisions, d => Assert.Equal(TrainingDecision.Continue, d));
        Assert.Equal([(8L, 5.0, 1.0, 5.0), (16, 3, 1, 5), (24, 7, 1, 5), (32, 7, 1, 5), (40, 6, 1, 5)], rows);
        Assert.Equal([("best.bin", 8L), ("best.bin", 24)], training.Saved);
        Assert.Equal(7, callback.BestMeanReward);
        Assert.Equal(5, callback.Evaluations);
        Assert.Null(callback.StopReason);
    }

    [Fact]
    public void No_improvement_stops_after_more_than_the_allowed_evaluations_in_a_row_as_sb3_does()
    {
        var training = new ScriptedTraining(1, 3, 2, 2, 2, 9);
        var callback = new EvaluationCallback(OneEnv, 2, seed: 0, StepSchedule.Every(4)) { Stops = new EvaluationStops { MaxNoImprovementEvals = 2 } };
        var decisions = Drive(callback, training, 100);
        Assert.Equal([TrainingDecision.Continue, TrainingDecision.Continue, TrainingDecision.Continue, TrainingDecision.Continue, TrainingDecision.Stop], decisions);
        Assert.Equal(20, training.TotalSteps);
        Assert.Equal("3 evaluations in a row did not beat the best mean 3.00 (step 20)", callback.StopReason);

        // With min_evals 3 the first three evaluations are not counted: 2, 2, 2, 2 after them stop at the sixth.
        var patient = new ScriptedTraining(1, 3, 2, 2, 2, 2, 9);
        var waiting = new EvaluationCallback(OneEnv, 2, seed: 0, StepSchedule.Every(4)) { Stops = new EvaluationStops { MaxNoImprovementEvals = 2, MinEvals = 3 } };
        Assert.Equal(TrainingDecision.Stop, Drive(waiting, patient, 100)[^1]);
        Assert.Equal(24, patient.TotalSteps);
    }

    [Fact]
    public void Reaching_the_reward_threshold_stops_at_that_evaluation()
    {
        var training = new ScriptedTraining(1, 5, 9);
        var callback = new EvaluationCallback(OneEnv, 2, seed: 0, StepSchedule.Every(4)) { Stops = new EvaluationStops { RewardThreshold = 4 } };
        var decisions = Drive(callback, training, 100);
        Assert.Equal([TrainingDecision.Continue, TrainingDecision.Stop], decisions);
        Assert.Equal("the best evaluation mean 5.00 reached the reward threshold 4 at step 8", callback.StopReason);
    }

    [Fact]
    public void Checkpoints_are_written_at_the_first_rollout_end_at_or_after_each_multiple()
    {
        var training = new ScriptedTraining();
        var callback = new CheckpointCallback("checkpoint.bin", 10_000, startStep: 8192);
        for (var k = 2; k <= 6; k++)
        {
            training.TotalSteps = 8192L * k;
            Assert.Equal(TrainingDecision.Continue, callback.OnUpdateEnd(training, null!));
        }
        Assert.Equal([16384L, 24576, 32768, 40960], training.Saved.Select(s => s.Step));

        var off = new ScriptedTraining { TotalSteps = 81920 };
        new CheckpointCallback("off.bin", 0).OnUpdateEnd(off, null!);
        Assert.Empty(off.Saved);
    }

    private sealed class StopWhen(Func<ITrainingContext, bool>? onStep = null, Func<ITrainingContext, bool>? onUpdateEnd = null) : ITrainingCallback
    {
        public TrainingDecision OnStep(ITrainingContext training) =>
            onStep?.Invoke(training) == true ? TrainingDecision.Stop : TrainingDecision.Continue;

        public TrainingDecision OnUpdateEnd(ITrainingContext training, UpdateMetrics metrics) =>
            onUpdateEnd?.Invoke(training) == true ? TrainingDecision.Stop : TrainingDecision.Continue;
    }
}
