using RLWorkbench.Gym.Random;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo.Tests;

public class LearningTests
{
    [Fact]
    public void Ppo_learns_a_contextual_bandit_with_discrete_actions()
    {
        var options = new PpoOptions
        {
            NumEnvs = 4, StepsPerEnv = 32, MinibatchSize = 32, Epochs = 4, HiddenSizes = [32, 32],
            LearningRate = 3e-3, Seed = 11,
        };
        using var trainer = new PpoTrainer(options, i => new ContextualBandit(4, 100 + i), CPU);
        using var evalEnv = new ContextualBandit(4, 999);
        var before = PolicyEvaluation.Run(trainer.Policy, [evalEnv], 40, seed: 5).Average(e => e.Return);

        trainer.Learn(128 * 20);

        var after = PolicyEvaluation.Run(trainer.Policy, [evalEnv], 40, seed: 5).Average(e => e.Return);
        Assert.True(before < 0.6, $"the untrained policy already scores {before}; the test would prove nothing");
        Assert.True(after >= 0.95, $"deterministic accuracy {after} after training (was {before}); chance is 0.25");
        Assert.True(trainer.Episodes.MeanReturn > 0.8, $"ep_rew_mean {trainer.Episodes.MeanReturn}");
    }

    [Fact]
    public void Ppo_learns_to_reach_a_target_with_a_box_action()
    {
        var options = new PpoOptions
        {
            NumEnvs = 4, StepsPerEnv = 64, MinibatchSize = 64, Epochs = 5, HiddenSizes = [32, 32],
            LearningRate = 3e-3, EntropyCoefficient = 0, Seed = 5,
        };
        using var trainer = new PpoTrainer(options, i => new TargetReaching(200 + i), CPU);
        using var evalEnv = new TargetReaching(777);
        var before = PolicyEvaluation.Run(trainer.Policy, [evalEnv], 50, seed: 1).Average(e => e.Return);

        trainer.Learn(256 * 30);

        var after = PolicyEvaluation.Run(trainer.Policy, [evalEnv], 50, seed: 1).Average(e => e.Return);
        Assert.True(before < -0.05, $"the untrained policy already scores {before}; the test would prove nothing");
        // Always answering 0 scores -1/12 = -0.083 on average; the untrained policy is about that.
        Assert.True(after > -0.01, $"mean squared error {-after} after training (was {-before})");
        Assert.True(trainer.LastMetrics!.LogStdMean < 0, "the Gaussian should have narrowed");
    }

    [Fact]
    public void Checkpoint_round_trip_restores_weights_optimizer_counters_random_state_and_episodes()
    {
        var options = new PpoOptions { NumEnvs = 2, StepsPerEnv = 16, MinibatchSize = 8, Epochs = 2, HiddenSizes = [16], Seed = 4 };
        using var trainer = new PpoTrainer(options, i => new TargetReaching(i), CPU);
        trainer.Learn(64);
        var path = Path.Combine(Path.GetTempPath(), $"ppo-ckpt-{Guid.NewGuid():N}.bin");
        try
        {
            trainer.ToCheckpoint().Save(path);
            var loaded = PpoCheckpoint.Load(path);

            using var resumed = new PpoTrainer(options with { Seed = 99 }, i => new TargetReaching(i), CPU);
            resumed.Restore(loaded);
            Assert.Equal(trainer.Policy.Parameters.ValuesToArray(), resumed.Policy.Parameters.ValuesToArray());
            Assert.Equal(HostTransfer.ToArray(trainer.Optimizer.FirstMoment), HostTransfer.ToArray(resumed.Optimizer.FirstMoment));
            Assert.Equal(HostTransfer.ToArray(trainer.Optimizer.SecondMoment), HostTransfer.ToArray(resumed.Optimizer.SecondMoment));
            Assert.Equal(trainer.Optimizer.StepCount, resumed.Optimizer.StepCount);
            Assert.Equal(64, resumed.TotalSteps);
            Assert.Equal(trainer.Updates, resumed.Updates);
            Assert.Equal(trainer.Random.GetState(), resumed.Random.GetState());
            Assert.Equal(trainer.Episodes.Recent, resumed.Episodes.Recent);
            Assert.Equal(trainer.Episodes.EpisodesFinished, resumed.Episodes.EpisodesFinished);

            // Two trainers restored from the same file continue identically.
            using var twin = new PpoTrainer(options with { Seed = 99 }, i => new TargetReaching(i), CPU);
            twin.Restore(PpoCheckpoint.Load(path));
            resumed.Learn(128);
            twin.Learn(128);
            Assert.Equal(128, resumed.TotalSteps);
            Assert.Equal(twin.Policy.Parameters.ValuesToArray(), resumed.Policy.Parameters.ValuesToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_checkpoint_from_another_action_space_is_refused()
    {
        var options = new PpoOptions { NumEnvs = 1, StepsPerEnv = 8, MinibatchSize = 8, Epochs = 1, HiddenSizes = [8] };
        using var box = new PpoTrainer(options, i => new TargetReaching(i), CPU);
        using var discrete = new PpoTrainer(options, i => new ContextualBandit(1, i), CPU);
        var e = Assert.Throws<InvalidDataException>(() => discrete.Restore(box.ToCheckpoint()));
        Assert.Contains("Box(1)", e.Message);
    }

    [Fact]
    public void Same_seed_gives_the_same_training_and_another_seed_does_not()
    {
        float[] Train(int seed)
        {
            var options = new PpoOptions { NumEnvs = 2, StepsPerEnv = 16, MinibatchSize = 8, Epochs = 2, HiddenSizes = [16], Seed = seed };
            using var trainer = new PpoTrainer(options, i => new TargetReaching(i), CPU);
            trainer.Learn(64);
            return trainer.Policy.Parameters.ValuesToArray();
        }
        Assert.Equal(Train(1), Train(1));
        Assert.NotEqual(Train(1), Train(2));
    }

    [Fact]
    public void Cancelling_mid_rollout_keeps_the_last_finished_update()
    {
        var options = new PpoOptions { NumEnvs = 1, StepsPerEnv = 8, MinibatchSize = 8, Epochs = 1, HiddenSizes = [8] };
        using var trainer = new PpoTrainer(options, i => new TargetReaching(i), CPU);
        trainer.Learn(8);
        var weights = trainer.Policy.Parameters.ValuesToArray();
        var random = trainer.Random.GetState();
        var episodes = trainer.Episodes.EpisodesFinished;
        using var cts = new CancellationTokenSource();
        var stepsSeen = 0;
        var outcome = trainer.Learn(64, new StopAfter(() => { if (++stepsSeen == 3) cts.Cancel(); }), cts.Token);
        Assert.Equal(TrainingOutcome.Cancelled, outcome);
        Assert.Equal(3, stepsSeen);
        Assert.Equal(1, trainer.Updates);
        Assert.Equal(8, trainer.TotalSteps);
        Assert.Equal(weights, trainer.Policy.Parameters.ValuesToArray());
        Assert.Equal(random, trainer.Random.GetState());
        Assert.Equal(episodes, trainer.Episodes.EpisodesFinished);
    }

    [Fact]
    public void Evaluating_side_by_side_gives_the_same_episodes_as_one_at_a_time()
    {
        var options = new PpoOptions { NumEnvs = 2, StepsPerEnv = 16, MinibatchSize = 8, Epochs = 2, HiddenSizes = [16], Seed = 8 };
        using var trainer = new PpoTrainer(options, i => new TimeLimited(limit: 5), CPU);
        trainer.Learn(32);
        var envs = Enumerable.Range(0, 3).Select(_ => (RLWorkbench.Gym.IEnv)new TargetReaching(0)).ToList();
        using var box = new PpoTrainer(options, i => new TargetReaching(i), CPU);
        box.Learn(32);
        var together = PolicyEvaluation.Run(box.Policy, envs, 7, seed: 40).Select(e => e.Return).ToArray();
        var oneByOne = PolicyEvaluation.Run(box.Policy, [new TargetReaching(0)], 7, seed: 40).Select(e => e.Return).ToArray();
        Assert.Equal(7, together.Length);
        Assert.Equal(oneByOne, together);
        Assert.Equal(7, together.Distinct().Count());
        Assert.All(PolicyEvaluation.Run(trainer.Policy, [new TimeLimited(5)], 2, seed: 0), e => Assert.Equal(5, e.Length));
    }

    [Theory]
    [InlineData(4, 2048, 100, "must divide")]
    [InlineData(0, 2048, 64, "envs must be")]
    [InlineData(4, 2048, 0, "minibatch size must be between 1 and 50,000,000")]
    public void Options_name_the_problem(int envs, int steps, int minibatch, string expected)
    {
        var problem = new PpoOptions { NumEnvs = envs, StepsPerEnv = steps, MinibatchSize = minibatch }.Problem();
        Assert.NotNull(problem);
        Assert.Contains(expected, problem);
        Assert.Null(new PpoOptions().Problem());
    }

    private sealed class StopAfter(Action onStep) : ITrainingCallback
    {
        public TrainingDecision OnStep(ITrainingContext training)
        {
            onStep();
            return TrainingDecision.Continue;
        }
    }
}
