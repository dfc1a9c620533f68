namespace RLWorkbench.Ppo;

/// <summary>The distributions a Box action space can use, by the names options and checkpoints spell, and the choice for a space.</summary>
public static class ActionDistributions
{
    /// <summary>SB3's diagonal Gaussian; samples outside the box are clipped on the way to the environment (the seed).</summary>
    public const string DiagonalGaussian = "diag-gaussian";

    /// <summary>A Gaussian squashed by tanh and mapped onto the box, with the log-determinant correction.</summary>
    public const string SquashedGaussian = "squashed-gaussian";

    /// <summary>A Beta distribution per dimension, mapped onto the box (Chou et al., 2017).</summary>
    public const string Beta = "beta";

    /// <summary>One coin per dimension choosing the box's lower or upper end, for boxes the environment reads through thresholds.</summary>
    public const string Bernoulli = "bernoulli";

    /// <summary>What a Discrete action space always uses; it is not an option.</summary>
    public const string Categorical = "categorical";

    public static readonly string[] BoxChoices = [DiagonalGaussian, SquashedGaussian, Beta, Bernoulli];

    /// <summary>
    /// The distribution the options ask for on this action space. A Discrete space is always categorical,
    /// so naming a Box distribution or a state-dependent spread for it is a mistake worth one sentence.
    /// </summary>
    public static IActionDistribution For(PolicyShape shape, PpoOptions options)
    {
        if (shape.Kind == ActionKind.Discrete)
        {
            if (options.Distribution != DiagonalGaussian)
                throw new ArgumentException($"distribution {options.Distribution} needs a Box action space; a Discrete({shape.ActionSize}) space always uses a categorical.");
            if (options.StateDependentStd)
                throw new ArgumentException($"stateDependentStd applies to Box action spaces; a Discrete({shape.ActionSize}) space uses a categorical.");
            return new CategoricalDistribution(shape.ActionSize);
        }
        return options.Distribution switch
        {
            DiagonalGaussian => new DiagonalGaussianDistribution(shape.Low, shape.High, options.StateDependentStd, options.LogStdInit),
            SquashedGaussian => new SquashedGaussianDistribution(shape.Low, shape.High, options.StateDependentStd, options.LogStdInit),
            Beta => new BetaDistribution(shape.Low, shape.High),
            Bernoulli => new BernoulliDistribution(shape.Low, shape.High),
            _ => throw new ArgumentException($"distribution must be one of {string.Join(", ", BoxChoices)}, got '{options.Distribution}'."),
        };
    }
}
