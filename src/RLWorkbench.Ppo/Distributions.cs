using TorchSharp;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo;

/// <summary>
/// SB3's DiagGaussianDistribution with a state-independent log standard deviation: log-probability
/// and entropy are summed over the action dimensions.
/// </summary>
public static class DiagonalGaussian
{
    public static readonly double HalfLog2Pi = 0.5 * Math.Log(2 * Math.PI);

    /// <summary>log N(actions; mean, exp(logStd)) summed over the last dimension, one value per row.</summary>
    public static Tensor LogProb(Tensor actions, Tensor mean, Tensor logStd)
    {
        using var scope = NewDisposeScope();
        var z = (actions - mean) * (-logStd).exp();
        var perRow = z.square().sum(-1).mul(-0.5);
        var constant = logStd.sum().add(HalfLog2Pi * logStd.shape[0]);
        return (perRow - constant).MoveToOuterDisposeScope();
    }

    /// <summary>Entropy summed over dimensions; the same for every state because log_std is a free vector.</summary>
    public static Tensor Entropy(Tensor logStd) => logStd.sum().add((0.5 + HalfLog2Pi) * logStd.shape[0]);

    /// <summary>The log-probability of mean + exp(logStd) * noise, computed on the host during rollouts.</summary>
    public static double LogProbOfNoise(ReadOnlySpan<float> noise, double logStdSum)
    {
        double squares = 0;
        foreach (var n in noise)
            squares += (double)n * n;
        return -0.5 * squares - logStdSum - HalfLog2Pi * noise.Length;
    }
}

/// <summary>SB3's CategoricalDistribution over logits.</summary>
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
