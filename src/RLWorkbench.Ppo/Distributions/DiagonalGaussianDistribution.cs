using RLWorkbench.Gym.Random;
using TorchSharp;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo;

/// <summary>
/// SB3's DiagGaussianDistribution: the head is the mean; the log standard deviation is a free
/// state-independent vector (the seed, SB3's default) or, with stateDependentStd, a second half of the
/// head clamped to [-20, 2] as SB3's SAC does. The rollout stores the unclipped sample and the
/// environment receives it clipped to the box, so samples outside the box all count as the edge
/// (the seed's behaviour, and the reason its means can drift far outside the box unnoticed).
/// </summary>
public sealed class DiagonalGaussianDistribution : IActionDistribution
{
    /// <summary>SB3's LOG_STD_MIN and LOG_STD_MAX for state-dependent spreads.</summary>
    public const double LogStdMin = -20, LogStdMax = 2;

    private readonly float[] low;
    private readonly float[] high;
    private readonly GaussianSpread spread;

    public DiagonalGaussianDistribution(float[] low, float[] high, bool stateDependentStd = false, double logStdInit = 0)
    {
        this.low = low;
        this.high = high;
        spread = new GaussianSpread(low.Length, stateDependentStd, logStdInit);
    }

    // Noise for up to this many dimensions lives on the stack; larger boxes allocate.
    private const int MaxStackNoise = 256;

    public string Name => ActionDistributions.DiagonalGaussian;

    public bool StateDependentStd => spread.StateDependent;

    public int ActionWidth => low.Length;

    public int HeadWidth => spread.HeadWidth;

    public (string Name, int Width)? StateIndependentParameter => spread.StateIndependentParameter;

    public void Initialise(Span<float> headBias, Span<float> stateIndependent) => spread.Initialise(headBias, stateIndependent);

    public (Tensor LogProb, Tensor Entropy) Evaluate(Tensor head, Tensor? stateIndependent, Tensor actions)
    {
        if (!StateDependentStd)
        {
            // The seed's path, op for op as before the seam existed, so its training stays bit-identical.
            var logStd = stateIndependent ?? throw new ArgumentNullException(nameof(stateIndependent));
            var logProb = DiagonalGaussian.LogProb(actions, head, logStd);
            using var entropy = DiagonalGaussian.Entropy(logStd);
            return (logProb, entropy.expand(head.shape[0]));
        }
        using var scope = NewDisposeScope();
        var (mean, rowLogStd) = SplitHead(head);
        return (DiagonalGaussian.LogProbPerRow(actions, mean, rowLogStd).MoveToOuterDisposeScope(),
            DiagonalGaussian.EntropyPerRow(rowLogStd).MoveToOuterDisposeScope());
    }

    /// <summary>Mean [B, d] and clamped log std [B, d] from a state-dependent head [B, 2d].</summary>
    internal static (Tensor Mean, Tensor LogStd) SplitHead(Tensor head)
    {
        var d = head.shape[1] / 2;
        using var min = LogStdMin.ToScalar();
        using var max = LogStdMax.ToScalar();
        return (head.narrow(1, 0, d), head.narrow(1, d, d).clamp(min, max));
    }

    /// <summary>The log std of one row: the free vector, or the clamped second half of a state-dependent head.</summary>
    internal static float LogStdAt(ReadOnlySpan<float> head, ReadOnlySpan<float> stateIndependent, int d, bool stateDependent, int j) =>
        stateDependent ? Math.Clamp(head[d + j], (float)LogStdMin, (float)LogStdMax) : stateIndependent[j];

    public double Sample(ReadOnlySpan<float> head, ReadOnlySpan<float> stateIndependent, IRandomSource random, Span<float> action)
    {
        var d = ActionWidth;
        Span<float> noise = d <= MaxStackNoise ? stackalloc float[d] : new float[d];
        Gaussian.Fill(random, noise);
        return Place(head, stateIndependent, noise, action);
    }

    public double Deterministic(ReadOnlySpan<float> head, ReadOnlySpan<float> stateIndependent, Span<float> action)
    {
        Span<float> noise = ActionWidth <= MaxStackNoise ? stackalloc float[ActionWidth] : new float[ActionWidth];
        noise.Clear();
        return Place(head, stateIndependent, noise, action);
    }

    private double Place(ReadOnlySpan<float> head, ReadOnlySpan<float> stateIndependent, ReadOnlySpan<float> noise, Span<float> action)
    {
        var d = ActionWidth;
        double logStdSum = 0;
        for (var j = 0; j < d; j++)
        {
            var logStd = LogStdAt(head, stateIndependent, d, StateDependentStd, j);
            logStdSum += logStd;
            action[j] = head[j] + MathF.Exp(logStd) * noise[j];
        }
        return DiagonalGaussian.LogProbOfNoise(noise, logStdSum);
    }

    public void ToEnvironment(ReadOnlySpan<float> action, Span<float> environmentAction)
    {
        for (var j = 0; j < action.Length; j++)
            environmentAction[j] = Math.Clamp(action[j], low[j], high[j]);
    }

    public double MeanLogStd(ReadOnlySpan<float> head, ReadOnlySpan<float> stateIndependent) =>
        DiagonalGaussian.MeanLogStd(head, stateIndependent, ActionWidth, StateDependentStd);
}

/// <summary>
/// Where a Gaussian's log standard deviation lives, for the plain and the squashed Gaussian alike: one free
/// state-independent vector named log_std (SB3's default), or the second half of the action head.
/// </summary>
internal sealed record GaussianSpread(int ActionWidth, bool StateDependent, double LogStdInit)
{
    public int HeadWidth => StateDependent ? 2 * ActionWidth : ActionWidth;

    public (string Name, int Width)? StateIndependentParameter => StateDependent ? null : ("log_std", ActionWidth);

    public void Initialise(Span<float> headBias, Span<float> stateIndependent)
    {
        if (StateDependent)
            headBias[ActionWidth..].Fill((float)LogStdInit);
        else
            stateIndependent.Fill((float)LogStdInit);
    }
}

/// <summary>The diagonal Gaussian's formulas, shared by the plain and the squashed distribution.</summary>
public static class DiagonalGaussian
{
    public static readonly double HalfLog2Pi = 0.5 * Math.Log(2 * Math.PI);

    /// <summary>log N(actions; mean, exp(logStd)) summed over the last dimension, one value per row, for a free log std vector [d].</summary>
    public static Tensor LogProb(Tensor actions, Tensor mean, Tensor logStd)
    {
        using var scope = NewDisposeScope();
        using var minusHalf = (-0.5).ToScalar();
        using var normaliser = (HalfLog2Pi * logStd.shape[0]).ToScalar();
        using var one = 1.0.ToScalar();
        var z = (actions - mean) * (-logStd).exp();
        var perRow = z.mul(z).sum(-1).mul(minusHalf);
        var constant = logStd.sum().add(normaliser, one);
        return (perRow - constant).MoveToOuterDisposeScope();
    }

    /// <summary>Entropy summed over dimensions for a free log std vector; the same for every state.</summary>
    public static Tensor Entropy(Tensor logStd)
    {
        using var perDimension = ((0.5 + HalfLog2Pi) * logStd.shape[0]).ToScalar();
        using var one = 1.0.ToScalar();
        using var sum = logStd.sum();
        return sum.add(perDimension, one);
    }

    /// <summary>As <see cref="LogProb"/> with a log std per row [B, d].</summary>
    public static Tensor LogProbPerRow(Tensor actions, Tensor mean, Tensor logStd)
    {
        using var scope = NewDisposeScope();
        using var minusHalf = (-0.5).ToScalar();
        using var normaliser = (HalfLog2Pi * logStd.shape[1]).ToScalar();
        using var one = 1.0.ToScalar();
        var z = (actions - mean) * (-logStd).exp();
        var perRow = z.mul(z).sum(-1).mul(minusHalf);
        return (perRow - logStd.sum(-1).add(normaliser, one)).MoveToOuterDisposeScope();
    }

    /// <summary>As <see cref="Entropy"/> with a log std per row [B, d]: one value per row.</summary>
    public static Tensor EntropyPerRow(Tensor logStd)
    {
        using var perDimension = ((0.5 + HalfLog2Pi) * logStd.shape[1]).ToScalar();
        using var one = 1.0.ToScalar();
        using var sum = logStd.sum(-1);
        return sum.add(perDimension, one);
    }

    /// <summary>The log-probability of mean + exp(logStd) * noise, computed on the host during rollouts.</summary>
    public static double LogProbOfNoise(ReadOnlySpan<float> noise, double logStdSum)
    {
        double squares = 0;
        foreach (var n in noise)
            squares += (double)n * n;
        return -0.5 * squares - logStdSum - HalfLog2Pi * noise.Length;
    }

    /// <summary>
    /// Mean log std of one row. For a free vector this is the float mean .NET's Average gives, which is
    /// what log_std_mean logged before the distribution seam, so the seed's metrics stay identical.
    /// </summary>
    internal static double MeanLogStd(ReadOnlySpan<float> head, ReadOnlySpan<float> stateIndependent, int d, bool stateDependent)
    {
        double sum = 0;
        for (var j = 0; j < d; j++)
            sum += DiagonalGaussianDistribution.LogStdAt(head, stateIndependent, d, stateDependent, j);
        return (float)(sum / d);
    }
}
