using RLWorkbench.Gym.Random;
using TorchSharp;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo;

/// <summary>
/// A Gaussian squashed by tanh and mapped affinely onto the action box (SB3's
/// SquashedDiagGaussianDistribution, rescaled as SAC rescales onto the box). The rollout stores the
/// pre-tanh sample u, so the log-probability needs no atanh:
/// log p(a) = log N(u; mu, sigma) - sum log(1 - tanh(u)^2) - sum log((high - low) / 2).
/// The entropy has no closed form; instead of SB3's -log p(a) of the stored sample (whose gradient
/// vanishes in expectation, so the bonus barely acts), it is the Gaussian's entropy plus the expected
/// log-determinant, each dimension's expectation by a fixed 32-point Gauss-Hermite rule: deterministic,
/// differentiable in mu and sigma, and bounded above by the box's log-volume, so the bonus cannot widen
/// the spread without limit. The deterministic action is tanh(mu) on the box, as in SB3.
/// </summary>
public sealed class SquashedGaussianDistribution : IActionDistribution
{
    private static readonly float[] QuadratureNodes, QuadratureWeights;

    static SquashedGaussianDistribution()
    {
        var (nodes, weights) = SpecialFunctions.GaussHermiteNormal(32);
        QuadratureNodes = [.. nodes.Select(x => (float)x)];
        QuadratureWeights = [.. weights.Select(w => (float)w)];
    }

    private readonly float[] low;
    private readonly float[] high;
    private readonly GaussianSpread spread;

    // sum_j log((high_j - low_j) / 2): the affine map's share of the log-determinant.
    private readonly double logHalfVolume;

    public SquashedGaussianDistribution(float[] low, float[] high, bool stateDependentStd = false, double logStdInit = 0)
    {
        BoxMapping.RequireFinite(ActionDistributions.SquashedGaussian, low, high);
        this.low = low;
        this.high = high;
        spread = new GaussianSpread(low.Length, stateDependentStd, logStdInit);
        logHalfVolume = BoxMapping.LogVolume(low, high) - low.Length * Math.Log(2);
    }

    // Noise for up to this many dimensions lives on the stack; larger boxes allocate.
    private const int MaxStackNoise = 256;

    public string Name => ActionDistributions.SquashedGaussian;

    public bool StateDependentStd => spread.StateDependent;

    public int ActionWidth => low.Length;

    public int HeadWidth => spread.HeadWidth;

    public (string Name, int Width)? StateIndependentParameter => spread.StateIndependentParameter;

    public void Initialise(Span<float> headBias, Span<float> stateIndependent) => spread.Initialise(headBias, stateIndependent);

    public (Tensor LogProb, Tensor Entropy) Evaluate(Tensor head, Tensor? stateIndependent, Tensor actions)
    {
        using var scope = NewDisposeScope();
        Tensor mean, logStd, gaussianLogProb, gaussianEntropy;
        if (StateDependentStd)
        {
            (mean, logStd) = DiagonalGaussianDistribution.SplitHead(head);
            gaussianLogProb = DiagonalGaussian.LogProbPerRow(actions, mean, logStd);
            gaussianEntropy = DiagonalGaussian.EntropyPerRow(logStd);
        }
        else
        {
            mean = head;
            logStd = stateIndependent ?? throw new ArgumentNullException(nameof(stateIndependent));
            gaussianLogProb = DiagonalGaussian.LogProb(actions, mean, logStd);
            gaussianEntropy = DiagonalGaussian.Entropy(logStd).expand(head.shape[0]);
        }
        using var volume = logHalfVolume.ToScalar();
        using var one = 1.0.ToScalar();
        var logProb = gaussianLogProb - LogTanhDerivative(actions).sum(-1).add(volume, one);

        // E[log(1 - tanh(mu + sigma e)^2)] per dimension over e ~ N(0, 1), by quadrature: [B, d, K] -> [B, d].
        var nodes = tensor(QuadratureNodes, ScalarType.Float32, head.device);
        var weights = tensor(QuadratureWeights, ScalarType.Float32, head.device);
        var u = mean.unsqueeze(-1).add(logStd.exp().unsqueeze(-1) * nodes, one);
        var expectedLogDerivative = (LogTanhDerivative(u) * weights).sum(-1);
        var entropy = gaussianEntropy.add(expectedLogDerivative.sum(-1).add(volume, one), one);
        return (logProb.MoveToOuterDisposeScope(), entropy.MoveToOuterDisposeScope());
    }

    /// <summary>log(1 - tanh(u)^2) = 2 (log 2 - |u| - log(1 + e^(-2|u|))), finite for every u.</summary>
    private static Tensor LogTanhDerivative(Tensor u)
    {
        using var scope = NewDisposeScope();
        using var log2 = Math.Log(2).ToScalar();
        using var minusTwo = (-2.0).ToScalar();
        using var two = 2.0.ToScalar();
        using var one = 1.0.ToScalar();
        var a = u.abs();
        var result = a.mul(minusTwo).exp().log1p().add(a, one).neg().add(log2, one).mul(two);
        return result.MoveToOuterDisposeScope();
    }

    public double Sample(ReadOnlySpan<float> head, ReadOnlySpan<float> stateIndependent, IRandomSource random, Span<float> action)
    {
        Span<float> noise = ActionWidth <= MaxStackNoise ? stackalloc float[ActionWidth] : new float[ActionWidth];
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
        double logStdSum = 0, logDerivative = 0;
        for (var j = 0; j < d; j++)
        {
            var logStd = DiagonalGaussianDistribution.LogStdAt(head, stateIndependent, d, StateDependentStd, j);
            logStdSum += logStd;
            action[j] = head[j] + MathF.Exp(logStd) * noise[j];
            logDerivative += SpecialFunctions.LogTanhDerivative(action[j]);
        }
        return DiagonalGaussian.LogProbOfNoise(noise, logStdSum) - logDerivative - logHalfVolume;
    }

    public void ToEnvironment(ReadOnlySpan<float> action, Span<float> environmentAction)
    {
        for (var j = 0; j < action.Length; j++)
            environmentAction[j] = BoxMapping.FromUnit(0.5 * (Math.Tanh(action[j]) + 1), low[j], high[j]);
    }

    public double MeanLogStd(ReadOnlySpan<float> head, ReadOnlySpan<float> stateIndependent) =>
        DiagonalGaussian.MeanLogStd(head, stateIndependent, ActionWidth, StateDependentStd);
}
