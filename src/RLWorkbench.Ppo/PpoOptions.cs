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

    /// <summary>Anneal the learning rate linearly to 0 over the run (off in the seed).</summary>
    public bool LinearLearningRateDecay { get; init; }

    public double Gamma { get; init; } = 0.99;

    public double GaeLambda { get; init; } = 0.95;

    public double ClipRange { get; init; } = 0.2;

    /// <summary>SB3 clip_range_vf: clip the new value around the rollout's value; null (the seed) means no clipping.</summary>
    public double? ValueClipRange { get; init; }

    public double EntropyCoefficient { get; init; } = 0.01;

    public double ValueCoefficient { get; init; } = 0.5;

    public double MaxGradNorm { get; init; } = 0.5;

    /// <summary>Stop the epoch loop of an update once approx KL exceeds 1.5 x this; null (the seed) never stops early.</summary>
    public double? TargetKl { get; init; }

    public double AdamEpsilon { get; init; } = 1e-5;

    public int[] HiddenSizes { get; init; } = [256, 256, 128];

    /// <summary>Normalise advantages per minibatch (SB3 normalize_advantage, on in the seed).</summary>
    public bool NormalizeAdvantage { get; init; } = true;

    public int Seed { get; init; }

    [JsonIgnore]
    public int RolloutSize => NumEnvs * StepsPerEnv;

    /// <summary>Returns the first problem with these options as one sentence, or null when they are usable.</summary>
    public string? Problem()
    {
        if (NumEnvs < 1 || NumEnvs > 1024)
            return $"envs must be between 1 and 1024, got {NumEnvs}.";
        if (StepsPerEnv < 1 || StepsPerEnv > 1_000_000)
            return $"steps per environment per rollout must be between 1 and 1,000,000, got {StepsPerEnv}.";
        if (MinibatchSize < 1)
            return $"the minibatch size must be positive, got {MinibatchSize}.";
        if ((long)NumEnvs * StepsPerEnv > 50_000_000)
            return $"a rollout of {NumEnvs} x {StepsPerEnv} transitions is too large to hold.";
        if (RolloutSize % MinibatchSize != 0)
            return $"the minibatch size {MinibatchSize} must divide the rollout of {NumEnvs} x {StepsPerEnv} = {RolloutSize} transitions.";
        if (Epochs < 1)
            return $"epochs must be positive, got {Epochs}.";
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
            return $"the learning rate must be a positive number, got {LearningRate}.";
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
        if (HiddenSizes.Length == 0 || HiddenSizes.Any(h => h < 1 || h > 65536))
            return $"hidden sizes must be one or more layer widths between 1 and 65536, got [{string.Join(", ", HiddenSizes)}].";
        return null;
    }
}
