using System.Text.Json.Serialization;

namespace RLWorkbench.Ppo;

/// <summary>
/// Every PPO setting with the seed's SB3 configuration as its default (docs/ppo.md and
/// shared/spec/ppo.md list where each number comes from). Bound from experiments/*.json and the
/// command line, printed at the start of a run and saved with it.
/// </summary>
public sealed record PpoOptions
{
    public int NumEnvs { get; init; } = 4;

    /// <summary>Steps per environment per rollout (SB3 n_steps).</summary>
    public int StepsPerEnv { get; init; } = 2048;

    public int MinibatchSize { get; init; } = 64;

    public int Epochs { get; init; } = 10;

    public double LearningRate { get; init; } = 3e-4;

    /// <summary>Anneal the learning rate linearly to 0 over the run (off in the seed); the same as learningRateSchedule "linear" with learningRateFinal 0.</summary>
    public bool LinearLearningRateDecay { get; init; }

    /// <summary>constant (the seed), linear, cosine or exponential from <see cref="LearningRate"/> to <see cref="LearningRateFinal"/> (<see cref="Schedules"/>).</summary>
    public string LearningRateSchedule { get; init; } = Schedules.Constant;

    public double LearningRateFinal { get; init; }

    public double Gamma { get; init; } = 0.99;

    public double GaeLambda { get; init; } = 0.95;

    public double ClipRange { get; init; } = 0.2;

    /// <summary>SB3 clip_range_vf: clip the new value around the rollout's value; null (the seed) means no clipping.</summary>
    public double? ValueClipRange { get; init; }

    public double EntropyCoefficient { get; init; } = 0.01;

    /// <summary>constant (the seed), linear, cosine or exponential from <see cref="EntropyCoefficient"/> to <see cref="EntropyCoefficientFinal"/>.</summary>
    public string EntropyCoefficientSchedule { get; init; } = Schedules.Constant;

    public double EntropyCoefficientFinal { get; init; }

    public double ValueCoefficient { get; init; } = 0.5;

    public double MaxGradNorm { get; init; } = 0.5;

    /// <summary>
    /// When either is set, the policy side (policy MLP, action head, log_std) and the value side (value MLP
    /// and head) are clipped to their own norms instead of one global norm; an unset one uses
    /// <see cref="MaxGradNorm"/>. Null (the seed, SB3) clips all parameters together.
    /// </summary>
    public double? MaxGradNormPolicy { get; init; }

    public double? MaxGradNormValue { get; init; }

    /// <summary>Stop the epoch loop of an update once approx KL exceeds 1.5 x this; null (the seed) never stops early.</summary>
    public double? TargetKl { get; init; }

    public double AdamEpsilon { get; init; } = 1e-5;

    /// <summary>
    /// Compute the seed Gaussian's loss with tensor ops on the CPU too. By default the CPU computes that loss and its
    /// gradient on the host (<see cref="HostGaussianLoss"/>), which is faster and equal up to rounding; true gives the
    /// tensor path, whose runs are bit-identical to runs made before the host path existed.
    /// </summary>
    public bool TensorLoss { get; init; }

    public int[] HiddenSizes { get; init; } = [256, 256, 128];

    /// <summary>Normalise advantages per minibatch (SB3 normalize_advantage, on in the seed).</summary>
    public bool NormalizeAdvantage { get; init; } = true;

    /// <summary>The Box action distribution: diag-gaussian (the seed), squashed-gaussian, beta or bernoulli (<see cref="ActionDistributions"/>). A Discrete space always uses a categorical.</summary>
    public string Distribution { get; init; } = ActionDistributions.DiagonalGaussian;

    /// <summary>A Gaussian's log std from the action head per state instead of one free vector (the seed's).</summary>
    public bool StateDependentStd { get; init; }

    /// <summary>The Gaussians' starting log std (SB3's log_std_init, 0 in the seed).</summary>
    public double LogStdInit { get; init; }

    /// <summary>Normalise observations with running statistics, as SB3's VecNormalize (off in the seed).</summary>
    public bool NormalizeObservations { get; init; }

    /// <summary>Normalised observations are clipped to +-this (VecNormalize's clip_obs).</summary>
    public double ObservationClip { get; init; } = 10;

    /// <summary>Scale rewards by the running std of the discounted return, as VecNormalize's norm_reward (off in the seed).</summary>
    public bool NormalizeRewards { get; init; }

    /// <summary>Scaled rewards are clipped to +-this (VecNormalize's clip_reward).</summary>
    public double RewardClip { get; init; } = 10;

    public int Seed { get; init; }

    [JsonIgnore]
    public int RolloutSize => NumEnvs * StepsPerEnv;

    /// <summary>The learning rate at this progress (steps so far / steps asked for); the old linearLearningRateDecay counts as a linear schedule to 0.</summary>
    public double LearningRateAt(double progress) => LinearLearningRateDecay
        ? Schedules.Value(Schedules.Linear, LearningRate, 0, progress)
        : Schedules.Value(LearningRateSchedule, LearningRate, LearningRateFinal, progress);

    public double EntropyCoefficientAt(double progress) =>
        Schedules.Value(EntropyCoefficientSchedule, EntropyCoefficient, EntropyCoefficientFinal, progress);

    /// <summary>Whether the policy and value sides are clipped to separate gradient norms.</summary>
    [JsonIgnore]
    public bool SeparateGradientClipping => MaxGradNormPolicy is not null || MaxGradNormValue is not null;

    /// <summary>Returns the first problem with these options as one sentence, or null when they are usable.</summary>
    public string? Problem()
    {
        if (HiddenSizes is null || LearningRateSchedule is null || EntropyCoefficientSchedule is null || Distribution is null)
            return "hiddenSizes, learningRateSchedule, entropyCoefficientSchedule and distribution cannot be null; leave them out for their defaults.";
        foreach (var (name, value) in new (string, double?)[]
        {
            ("learningRate", LearningRate), ("learningRateFinal", LearningRateFinal), ("gamma", Gamma), ("gaeLambda", GaeLambda), ("clipRange", ClipRange),
            ("valueClipRange", ValueClipRange), ("entropyCoefficient", EntropyCoefficient), ("entropyCoefficientFinal", EntropyCoefficientFinal),
            ("valueCoefficient", ValueCoefficient), ("maxGradNorm", MaxGradNorm), ("maxGradNormPolicy", MaxGradNormPolicy), ("maxGradNormValue", MaxGradNormValue),
            ("targetKl", TargetKl), ("adamEpsilon", AdamEpsilon), ("logStdInit", LogStdInit), ("observationClip", ObservationClip), ("rewardClip", RewardClip),
        })
        {
            // Beyond 1e6 no setting means anything for training; such a value is a typo or an overflow.
            if (value is { } v && !(Math.Abs(v) <= 1e6))
                return $"{name} must be a finite number of at most 1,000,000 in size, got {v}.";
        }
        if (NumEnvs < 1 || NumEnvs > 1024)
            return $"envs must be between 1 and 1024, got {NumEnvs}.";
        if (StepsPerEnv < 1 || StepsPerEnv > 1_000_000)
            return $"steps per environment per rollout must be between 1 and 1,000,000, got {StepsPerEnv}.";
        if (MinibatchSize < 1 || MinibatchSize > 50_000_000)
            return $"the minibatch size must be between 1 and 50,000,000, got {MinibatchSize}.";
        if ((long)NumEnvs * StepsPerEnv > 50_000_000)
            return $"a rollout of {NumEnvs} x {StepsPerEnv} transitions is too large to hold.";
        if (RolloutSize % MinibatchSize != 0)
            return $"the minibatch size {MinibatchSize} must divide the rollout of {NumEnvs} x {StepsPerEnv} = {RolloutSize} transitions.";
        if (Epochs < 1 || Epochs > 10_000)
            return $"epochs must be between 1 and 10,000, got {Epochs}.";
        if (!(LearningRate > 0 && LearningRate <= 1))
            return $"the learning rate must be above 0 and at most 1, got {LearningRate}.";
        if (!(Gamma >= 0 && Gamma <= 1))
            return $"gamma must be in [0, 1], got {Gamma}.";
        if (!(GaeLambda >= 0 && GaeLambda <= 1))
            return $"the GAE lambda must be in [0, 1], got {GaeLambda}.";
        if (!(ClipRange > 0))
            return $"the clip range must be positive, got {ClipRange}.";
        if (ValueClipRange is { } vf && !(vf > 0))
            return $"the value clip range must be positive when set, got {vf}.";
        if (!(EntropyCoefficient >= 0) || !(ValueCoefficient >= 0))
            return $"the entropy and value coefficients must be non-negative, got {EntropyCoefficient} and {ValueCoefficient}.";
        if (!(MaxGradNorm > 0))
            return $"the max gradient norm must be positive, got {MaxGradNorm}.";
        if (TargetKl is { } kl && !(kl > 0))
            return $"target KL must be positive when set, got {kl}.";
        if (!(AdamEpsilon > 0))
            return $"Adam's epsilon must be positive, got {AdamEpsilon}.";
        if (LinearLearningRateDecay && LearningRateSchedule != Schedules.Constant && LearningRateSchedule != Schedules.Linear)
            return $"linearLearningRateDecay is the older spelling of learningRateSchedule \"linear\", so it cannot be combined with learningRateSchedule \"{LearningRateSchedule}\".";
        if (Schedules.Problem("learningRateSchedule", LearningRateSchedule, "learningRateFinal", LearningRate, LearningRateFinal) is { } lr)
            return lr;
        if (Schedules.Problem("entropyCoefficientSchedule", EntropyCoefficientSchedule, "entropyCoefficientFinal", EntropyCoefficient, EntropyCoefficientFinal) is { } ent)
            return ent;
        if (MaxGradNormPolicy is { } policyNorm && !(policyNorm > 0))
            return $"maxGradNormPolicy must be positive when set, got {policyNorm}.";
        if (MaxGradNormValue is { } valueNorm && !(valueNorm > 0))
            return $"maxGradNormValue must be positive when set, got {valueNorm}.";
        if (!ActionDistributions.BoxChoices.Contains(Distribution))
            return $"distribution must be one of {string.Join(", ", ActionDistributions.BoxChoices)}, got '{Distribution}'.";
        var gaussian = Distribution is ActionDistributions.DiagonalGaussian or ActionDistributions.SquashedGaussian;
        if (!gaussian && StateDependentStd)
            return $"stateDependentStd applies to the Gaussian distributions; {Distribution}'s spread always depends on the state.";
        if (!gaussian && LogStdInit != 0)
            return $"logStdInit applies to the Gaussian distributions, not {Distribution}, got {LogStdInit}.";
        if (!double.IsFinite(LogStdInit) || Math.Abs(LogStdInit) > 20)
            return $"logStdInit must be between -20 and 20, got {LogStdInit}.";
        if (!(ObservationClip > 0))
            return $"observationClip must be positive, got {ObservationClip}.";
        if (!(RewardClip > 0))
            return $"rewardClip must be positive, got {RewardClip}.";
        if (HiddenSizes.Length == 0 || HiddenSizes.Any(h => h < 1 || h > 65536))
            return $"hidden sizes must be one or more layer widths between 1 and 65536, got [{string.Join(", ", HiddenSizes)}].";
        return null;
    }
}
