using static TorchSharp.torch;

namespace RLWorkbench.Ppo.Tests;

/// <summary>
/// Each bounded-action option learns a small task on the box [0, 1]^2 (<see cref="BoxTarget"/>): a few
/// seconds, fixed seeds, and a deterministic evaluation far better than the untrained policy's.
/// (The seed's state-independent diagonal Gaussian has its own test in <see cref="LearningTests"/>.)
/// </summary>
public class BoundedLearningTests
{
    private static readonly PpoOptions Small = new()
    {
        NumEnvs = 4, StepsPerEnv = 64, MinibatchSize = 64, Epochs = 5, HiddenSizes = [32, 32],
        LearningRate = 3e-3, EntropyCoefficient = 0, Seed = 5,
    };

    /// <summary>Mean squared error of 100 deterministic episodes before and after 30 rollouts of training.</summary>
    private static (double Before, double After) Train(PpoOptions options, Func<int, BoxTarget> makeEnv)
    {
        using var trainer = new PpoTrainer(options, i => makeEnv(300 + i), CPU);
        using var evalEnv = makeEnv(901);
        var before = -PolicyEvaluation.Run(trainer.Policy, [evalEnv], 100, seed: 1).Average(e => e.Return);
        trainer.Learn(256 * 30);
        var after = -PolicyEvaluation.Run(trainer.Policy, [evalEnv], 100, seed: 1).Average(e => e.Return);
        return (before, after);
    }

    [Theory]
    [InlineData(ActionDistributions.SquashedGaussian, false)]
    [InlineData(ActionDistributions.SquashedGaussian, true)]
    [InlineData(ActionDistributions.DiagonalGaussian, true)]
    [InlineData(ActionDistributions.Beta, false)]
    public void Each_distribution_learns_to_hit_targets_anywhere_in_the_box(string distribution, bool stateDependentStd)
    {
        var (before, after) = Train(Small with { Distribution = distribution, StateDependentStd = stateDependentStd }, seed => new BoxTarget(seed));
        // Untrained: the box's centre (squashed, Beta: error 1/12) or its corner (clipped Gaussian at 0: 1/3).
        Assert.True(before > 0.07, $"the untrained policy already has error {before}; the test would prove nothing");
        Assert.True(after < 0.01, $"mean squared error {after} after training (was {before})");
    }

    [Fact]
    public void Bernoulli_learns_to_pick_the_nearer_end_of_each_dimension()
    {
        var (before, after) = Train(Small with { Distribution = ActionDistributions.Bernoulli }, seed => new BoxTarget(seed));
        // Untrained, the deterministic action is the lower corner (a tie goes low): error E[t^2] = 1/3.
        // The best a policy on the ends can do is the nearer end: E[min(t, 1 - t)^2] = 1/12, about 0.083.
        Assert.True(before > 0.25, $"the untrained policy already has error {before}; the test would prove nothing");
        Assert.True(after < 0.095, $"mean squared error {after} after training (was {before}; the best on the ends is 0.083)");
    }

    [Fact]
    public void Normalised_observations_and_scaled_rewards_learn_from_large_offset_observations()
    {
        var options = Small with { Distribution = ActionDistributions.Beta, NormalizeObservations = true, NormalizeRewards = true };
        var (before, after) = Train(options, seed => new BoxTarget(seed, offset: 1000, scale: 100));
        Assert.True(before > 0.07, $"the untrained policy already has error {before}; the test would prove nothing");
        Assert.True(after < 0.01, $"mean squared error {after} after training (was {before})");
    }
}

/// <summary>
/// The rollout's host-side log-probabilities are what the update recomputes on the device from the stored
/// observations and actions before any step, for every distribution, so the first ratios are 1.
/// </summary>
public class RolloutConsistencyTests
{
    [Theory]
    [InlineData(ActionDistributions.DiagonalGaussian, false, false)]
    [InlineData(ActionDistributions.DiagonalGaussian, true, true)]
    [InlineData(ActionDistributions.SquashedGaussian, false, true)]
    [InlineData(ActionDistributions.SquashedGaussian, true, false)]
    [InlineData(ActionDistributions.Beta, false, true)]
    [InlineData(ActionDistributions.Bernoulli, false, false)]
    public void Stored_log_probs_and_values_match_the_update_recomputation(string distribution, bool stateDependentStd, bool normalize)
    {
        var options = new PpoOptions
        {
            NumEnvs = 3, StepsPerEnv = 40, MinibatchSize = 40, Epochs = 1, HiddenSizes = [16], Seed = 9,
            Distribution = distribution, StateDependentStd = stateDependentStd, LogStdInit = distribution is ActionDistributions.Beta or ActionDistributions.Bernoulli ? 0 : 0.5,
            NormalizeObservations = normalize, NormalizeRewards = normalize,
        };
        using var trainer = new PpoTrainer(options, i => new BoxTarget(i, dims: 3, offset: 5, scale: 3), CPU);
        // One update first, so the weights are no longer the symmetric initial ones.
        trainer.Learn(120);
        Assert.True(trainer.CollectRollout());
        var buffer = trainer.Buffer;
        using var observations = tensor(buffer.Observations, [buffer.Size, buffer.ObservationSize]);
        using var actions = tensor(buffer.Actions, [buffer.Size, buffer.ActionWidth]);
        using var noGrad = no_grad();
        var (logProb, _, value) = trainer.Policy.Evaluate(observations, actions);
        Assert.Equal(buffer.LogProbs, HostTransfer.ToArray(logProb), new FloatTolerance(2e-4f));
        Assert.Equal(buffer.Values, HostTransfer.ToArray(value), new FloatTolerance(1e-5f));
        // Raw observations lie in [5, 8]; the rollout stores what the policy saw, centred when normalised.
        var storedMean = buffer.Observations.Average();
        Assert.True(normalize ? Math.Abs(storedMean) < 1 : storedMean >= 5, $"stored observations average {storedMean}");
    }
}
