using RLWorkbench.Gym.Random;
using TorchSharp;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo;

/// <summary>
/// A Beta distribution per dimension on the unit interval, mapped affinely onto the action box (Chou,
/// Maturana and Scherer, "Improving Stochastic Policy Gradients in Continuous Control with Deep
/// Reinforcement Learning using the Beta Distribution", ICML 2017). The head gives 2d numbers;
/// alpha = softplus(h) + 1 and beta = softplus(h') + 1 keep both above 1, so every density is
/// unimodal and finite at the edges. The rollout stores the unit-interval sample x, kept within
/// [1e-6, 1 - 1e-6] so its log-density stays finite in single precision; the environment receives
/// low + x (high - low). Log-density and entropy are the closed forms, minus / plus the box's
/// log-volume. The deterministic action is the mean alpha / (alpha + beta).
/// </summary>
public sealed class BetaDistribution : IActionDistribution
{
    /// <summary>How close to the edges a stored sample may get.</summary>
    public const double Margin = 1e-6;

    private readonly float[] low;
    private readonly float[] high;
    private readonly double logVolume;

    public BetaDistribution(float[] low, float[] high)
    {
        BoxMapping.RequireFinite(ActionDistributions.Beta, low, high);
        this.low = low;
        this.high = high;
        logVolume = BoxMapping.LogVolume(low, high);
    }

    public string Name => ActionDistributions.Beta;

    public int ActionWidth => low.Length;

    public int HeadWidth => 2 * ActionWidth;

    public (string Name, int Width)? StateIndependentParameter => null;

    public void Initialise(Span<float> headBias, Span<float> stateIndependent)
    {
        // Zero biases give alpha = beta = 1 + log 2 (about 1.69): centred, standard deviation about 0.24 of the box.
    }

    public (Tensor LogProb, Tensor Entropy) Evaluate(Tensor head, Tensor? stateIndependent, Tensor actions)
    {
        using var scope = NewDisposeScope();
        var (alpha, beta) = Concentrations(head);
        using var one = 1.0.ToScalar();
        using var two = 2.0.ToScalar();
        using var volume = logVolume.ToScalar();
        using var margin = Margin.ToScalar();
        using var upper = (1 - Margin).ToScalar();
        var x = actions.clamp(margin, upper);
        var sum = alpha.add(beta, one);
        var logNormaliser = alpha.lgamma().add(beta.lgamma(), one) - sum.lgamma();
        var alphaLess1 = alpha.sub(one);
        var betaLess1 = beta.sub(one);
        var logDensity = (alphaLess1 * x.log()).add(betaLess1 * x.neg().log1p(), one) - logNormaliser;
        var logProb = logDensity.sum(-1).sub(volume);
        var entropy = (logNormaliser - alphaLess1 * alpha.digamma() - betaLess1 * beta.digamma()).add(sum.sub(two) * sum.digamma(), one)
            .sum(-1).add(volume, one);
        return (logProb.MoveToOuterDisposeScope(), entropy.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// alpha and beta [B, d] from the head [B, 2d]: softplus + 1, as -log_sigmoid(-h) because TorchSharp's
    /// softplus makes implicit scalars (docs/ppo.md, "Scalars") and relu + log1p(exp(-|h|)) has no gradient at 0.
    /// </summary>
    private static (Tensor Alpha, Tensor Beta) Concentrations(Tensor head)
    {
        var d = head.shape[1] / 2;
        using var one = 1.0.ToScalar();
        var softplus = head.neg().log_sigmoid().neg();
        var concentration = softplus.add(one, one);
        return (concentration.narrow(1, 0, d), concentration.narrow(1, d, d));
    }

    private (double Alpha, double Beta) ConcentrationsAt(ReadOnlySpan<float> head, int j) =>
        (SpecialFunctions.Softplus(head[j]) + 1, SpecialFunctions.Softplus(head[ActionWidth + j]) + 1);

    public double Sample(ReadOnlySpan<float> head, ReadOnlySpan<float> stateIndependent, IRandomSource random, Span<float> action)
    {
        double logProb = 0;
        for (var j = 0; j < ActionWidth; j++)
        {
            var (alpha, beta) = ConcentrationsAt(head, j);
            action[j] = (float)Math.Clamp(SpecialFunctions.Beta(alpha, beta, random), Margin, 1 - Margin);
            logProb += LogDensity(alpha, beta, action[j]);
        }
        return logProb - logVolume;
    }

    public double Deterministic(ReadOnlySpan<float> head, ReadOnlySpan<float> stateIndependent, Span<float> action)
    {
        double logProb = 0;
        for (var j = 0; j < ActionWidth; j++)
        {
            var (alpha, beta) = ConcentrationsAt(head, j);
            action[j] = (float)Math.Clamp(alpha / (alpha + beta), Margin, 1 - Margin);
            logProb += LogDensity(alpha, beta, action[j]);
        }
        return logProb - logVolume;
    }

    private static double LogDensity(double alpha, double beta, double x) =>
        (alpha - 1) * Math.Log(x) + (beta - 1) * Math.Log(1 - x)
        - SpecialFunctions.LogGamma(alpha) - SpecialFunctions.LogGamma(beta) + SpecialFunctions.LogGamma(alpha + beta);

    public void ToEnvironment(ReadOnlySpan<float> action, Span<float> environmentAction)
    {
        for (var j = 0; j < action.Length; j++)
            environmentAction[j] = BoxMapping.FromUnit(action[j], low[j], high[j]);
    }

    /// <summary>The log of the Beta's standard deviation in the box's units, averaged over dimensions.</summary>
    public double MeanLogStd(ReadOnlySpan<float> head, ReadOnlySpan<float> stateIndependent)
    {
        double sum = 0;
        for (var j = 0; j < ActionWidth; j++)
        {
            var (alpha, beta) = ConcentrationsAt(head, j);
            var total = alpha + beta;
            sum += 0.5 * Math.Log(alpha * beta / (total * total * (total + 1))) + Math.Log((double)high[j] - low[j]);
        }
        return sum / ActionWidth;
    }
}
