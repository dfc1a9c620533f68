using RLWorkbench.Gym.Spaces;

namespace RLWorkbench.Gym;

/// <summary>
/// A Gymnasium-shaped environment: Reset(seed) then Step(action) until terminated or truncated.
/// Observations are written into caller-owned buffers so a training loop allocates nothing per step.
/// A Discrete action is passed as one float holding the index.
/// </summary>
public interface IEnv : IDisposable
{
    Space ObservationSpace { get; }

    Space ActionSpace { get; }

    /// <summary>Named figures from the last Reset or Step; overwritten by the next call.</summary>
    EnvInfo Info { get; }

    /// <summary>Starts an episode. A seed reseeds the environment's random source; null keeps its stream going.</summary>
    void Reset(int? seed, Span<float> observation);

    StepResult Step(ReadOnlySpan<float> action, Span<float> observation);
}

public readonly record struct StepResult(double Reward, bool Terminated, bool Truncated)
{
    public bool Done => Terminated || Truncated;
}
