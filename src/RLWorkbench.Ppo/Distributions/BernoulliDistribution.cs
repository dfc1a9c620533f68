using RLWorkbench.Gym.Random;
using TorchSharp;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo;

/// <summary>
/// One coin per dimension: the dimension takes the box's upper end with probability sigmoid(logit) and
/// its lower end otherwise. It is for action boxes the environment only reads through thresholds, as the
/// Phase 1 environment reads assign above 0.5 and collaborate above 0.7: there the continuous action is a
/// binary choice in disguise, and a Gaussian can push its mean arbitrarily far past the threshold without
/// changing anything the environment sees (issue 11's runaway). The rollout stores the bit (0 or 1); the
/// environment receives low or high. Log-probability and entropy are the closed forms over
/// log sigmoid; the deterministic action takes the likelier end (low on a tie).
/// </summary>
public sealed class BernoulliDistribution : IActionDistribution
{
    private readonly float[] low;
    private readonly float[] high;
    private readonly double meanLogWidth;

    public BernoulliDistribution(float[] low, float[] high)
    {
        BoxMapping.RequireFinite(ActionDistributions.Bernoulli, low, high);
        this.low = low;
        this.high = high;
        meanLogWidth = BoxMapping.LogVolume(low, high) / low.Length;
    }

    public string Name => ActionDistributions.Bernoulli;

    public int ActionWidth => low.Length;

    public int HeadWidth => ActionWidth;

    public (string Name, int Width)? StateIndependentParameter => null;

    public void Initialise(Span<float> headBias, Span<float> stateIndependent)
    {
        // Zero logits: every end equally likely.
    }

    public (Tensor LogProb, Tensor Entropy) Evaluate(Tensor head, Tensor? stateIndependent, Tensor actions)
    {
        using var scope = NewDisposeScope();
        using var one = 1.0.ToScalar();
        var logHigh = head.log_sigmoid();
        var logLow = head.neg().log_sigmoid();
        var logProb = (actions * logHigh).add(actions.neg().add(one, one) * logLow, one).sum(-1);
        var pHigh = logHigh.exp();
        var entropy = (pHigh * logHigh).add(pHigh.neg().add(one, one) * logLow, one).sum(-1).neg();
        return (logProb.MoveToOuterDisposeScope(), entropy.MoveToOuterDisposeScope());
    }

    public double Sample(ReadOnlySpan<float> head, ReadOnlySpan<float> stateIndependent, IRandomSource random, Span<float> action)
    {
        double logProb = 0;
        for (var j = 0; j < ActionWidth; j++)
        {
            var upper = random.Random() < 1 / (1 + Math.Exp(-(double)head[j]));
            action[j] = upper ? 1f : 0f;
            logProb += LogSigmoid(upper ? head[j] : -head[j]);
        }
        return logProb;
    }

    public double Deterministic(ReadOnlySpan<float> head, ReadOnlySpan<float> stateIndependent, Span<float> action)
    {
        double logProb = 0;
        for (var j = 0; j < ActionWidth; j++)
        {
            var upper = head[j] > 0;
            action[j] = upper ? 1f : 0f;
            logProb += LogSigmoid(upper ? head[j] : -head[j]);
        }
        return logProb;
    }

    public void ToEnvironment(ReadOnlySpan<float> action, Span<float> environmentAction)
    {
        for (var j = 0; j < action.Length; j++)
            environmentAction[j] = action[j] > 0.5f ? high[j] : low[j];
    }

    /// <summary>The log of each coin's standard deviation in the box's units, sqrt(p (1 - p)) (high - low), averaged over dimensions.</summary>
    public double MeanLogStd(ReadOnlySpan<float> head, ReadOnlySpan<float> stateIndependent)
    {
        double sum = 0;
        for (var j = 0; j < ActionWidth; j++)
            sum += 0.5 * (LogSigmoid(head[j]) + LogSigmoid(-head[j]));
        return sum / ActionWidth + meanLogWidth;
    }

    /// <summary>log sigmoid(x) = -softplus(-x), finite for any x.</summary>
    private static double LogSigmoid(double x) => -SpecialFunctions.Softplus(-x);
}
