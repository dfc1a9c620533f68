using RLWorkbench.Gym.Spaces;
using RLWorkbench.Gym.Wrappers;

namespace RLWorkbench.Gym.Vector;

/// <summary>
/// N copies of an environment stepped together, with Stable-Baselines3's auto-reset: when an
/// environment's episode ends, its slot in the returned observations already holds the first
/// observation of the next episode and the last one is kept in <see cref="FinalObservation"/>.
/// Buffers are flat, environment-major.
/// </summary>
public interface IVectorEnv : IDisposable
{
    int NumEnvs { get; }

    Space SingleObservationSpace { get; }

    Space SingleActionSpace { get; }

    /// <summary>Resets every environment; environment i gets seed + i when a seed is given.</summary>
    void Reset(int? seed, Span<float> observations);

    void Step(ReadOnlySpan<float> actions, Span<float> observations, Span<double> rewards, Span<bool> terminated, Span<bool> truncated);

    /// <summary>The observation environment <paramref name="env"/> reached at the end of the episode that ended in the last step.</summary>
    ReadOnlySpan<float> FinalObservation(int env);

    /// <summary>Episodes that ended in the last step (environments wrapped in <see cref="EpisodeStatistics"/>), in environment order.</summary>
    IReadOnlyList<(int Env, EpisodeRecord Episode)> FinishedEpisodes { get; }

    /// <summary>Each environment's info after the last step (the finished episode's, for one that auto-reset).</summary>
    EnvInfo Info(int env);
}
