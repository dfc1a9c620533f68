using RLWorkbench.Gym.Random;
using TorchSharp;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo;

/// <summary>SB3's CategoricalDistribution over the head's logits, for Discrete action spaces; the rollout stores the index as a float.</summary>
public sealed class CategoricalDistribution(int actions) : IActionDistribution
{
    public string Name => ActionDistributions.Categorical;

    public int HeadWidth => actions;

    public int ActionWidth => 1;

    public (string Name, int Width)? StateIndependentParameter => null;

    public void Initialise(Span<float> headBias, Span<float> stateIndependent)
    {
        // Zero logits: uniform over the actions, as SB3 starts.
    }

    public (Tensor LogProb, Tensor Entropy) Evaluate(Tensor head, Tensor? stateIndependent, Tensor actions) =>
        (Categorical.LogProb(head, actions), Categorical.Entropy(head));

    public double Sample(ReadOnlySpan<float> head, ReadOnlySpan<float> stateIndependent, IRandomSource random, Span<float> action)
    {
        var (index, logProb) = Categorical.Sample(head, random.Random());
        action[0] = index;
        return logProb;
    }

    public double Deterministic(ReadOnlySpan<float> head, ReadOnlySpan<float> stateIndependent, Span<float> action)
    {
        var (index, logProb) = Categorical.Argmax(head);
        action[0] = index;
        return logProb;
    }

    public void ToEnvironment(ReadOnlySpan<float> action, Span<float> environmentAction) => environmentAction[0] = action[0];

    public double MeanLogStd(ReadOnlySpan<float> head, ReadOnlySpan<float> stateIndependent) => double.NaN;
}

/// <summary>The categorical's formulas over logits.</summary>
public static class Categorical
{
    /// <summary>log softmax(logits)[action] per row; <paramref name="actions"/> holds indices as floats, as the buffer stores them.</summary>
    public static Tensor LogProb(Tensor logits, Tensor actions)
    {
        using var scope = NewDisposeScope();
        var logP = logits.log_softmax(-1);
        var index = actions.reshape(-1, 1).to(ScalarType.Int64);
        return logP.gather(1, index).squeeze(1).MoveToOuterDisposeScope();
    }

    public static Tensor Entropy(Tensor logits)
    {
        using var scope = NewDisposeScope();
        var logP = logits.log_softmax(-1);
        return (logP.exp() * logP).sum(-1).neg().MoveToOuterDisposeScope();
    }

    /// <summary>Samples from softmax(logits) with one uniform draw; returns the index and its log-probability.</summary>
    public static (int Action, double LogProb) Sample(ReadOnlySpan<float> logits, double uniform)
    {
        var max = double.NegativeInfinity;
        foreach (var l in logits)
            max = Math.Max(max, l);
        double total = 0;
        foreach (var l in logits)
            total += Math.Exp(l - max);
        var logTotal = Math.Log(total);
        var target = uniform * total;
        double cumulative = 0;
        var chosen = logits.Length - 1;
        for (var i = 0; i < logits.Length; i++)
        {
            cumulative += Math.Exp(logits[i] - max);
            if (target < cumulative)
            {
                chosen = i;
                break;
            }
        }
        return (chosen, logits[chosen] - max - logTotal);
    }

    public static (int Action, double LogProb) Argmax(ReadOnlySpan<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
                best = i;
        }
        var max = logits[best];
        double total = 0;
        foreach (var l in logits)
            total += Math.Exp(l - max);
        return (best, -Math.Log(total));
    }
}
