using RLWorkbench.Gym.Spaces;
using RLWorkbench.Gym.Wrappers;

namespace RLWorkbench.Gym.Vector;

/// <summary>
/// The shared bookkeeping of both vector environments; they differ only in whether the
/// environments are stepped one after another or on worker threads.
/// </summary>
public abstract class VectorEnv : IVectorEnv
{
    private readonly IEnv[] envs;
    private readonly float[] finalObservations;
    private readonly EnvInfo[] infos;
    private readonly List<(int Env, EpisodeRecord Episode)> finished = [];
    private readonly EpisodeRecord?[] endedEpisodes;
    private readonly int obsSize;
    private readonly int actSize;

    protected VectorEnv(IReadOnlyList<IEnv> envs)
    {
        if (envs.Count == 0)
            throw new ArgumentException("A vector environment needs at least one environment.", nameof(envs));
        this.envs = [.. envs];
        SingleObservationSpace = envs[0].ObservationSpace;
        SingleActionSpace = envs[0].ActionSpace;
        obsSize = SingleObservationSpace.FlatSize;
        actSize = SingleActionSpace.FlatSize;
        foreach (var e in envs)
        {
            if (e.ObservationSpace.FlatSize != obsSize || e.ActionSpace.FlatSize != actSize)
                throw new ArgumentException("All environments of a vector environment need the same spaces.", nameof(envs));
        }
        finalObservations = new float[envs.Count * obsSize];
        infos = envs.Select(e => e.Info.Clone()).ToArray();
        endedEpisodes = new EpisodeRecord?[envs.Count];
    }

    public int NumEnvs => envs.Length;

    public Space SingleObservationSpace { get; }

    public Space SingleActionSpace { get; }

    public IReadOnlyList<IEnv> Envs => envs;

    public IReadOnlyList<(int Env, EpisodeRecord Episode)> FinishedEpisodes => finished;

    public ReadOnlySpan<float> FinalObservation(int env) => finalObservations.AsSpan(env * obsSize, obsSize);

    public EnvInfo Info(int env) => infos[env];

    public void Reset(int? seed, Span<float> observations)
    {
        CheckLength(observations.Length, envs.Length * obsSize, "observations");
        finished.Clear();
        for (var i = 0; i < envs.Length; i++)
        {
            envs[i].Reset(seed + i, observations.Slice(i * obsSize, obsSize));
            infos[i].CopyFrom(envs[i].Info);
        }
    }

    public void Step(ReadOnlySpan<float> actions, Span<float> observations, Span<double> rewards, Span<bool> terminated, Span<bool> truncated)
    {
        CheckLength(actions.Length, envs.Length * actSize, "actions");
        CheckLength(observations.Length, envs.Length * obsSize, "observations");
        CheckLength(rewards.Length, envs.Length, "rewards");
        CheckLength(terminated.Length, envs.Length, "terminated");
        CheckLength(truncated.Length, envs.Length, "truncated");
        finished.Clear();
        StepAll(actions, observations, rewards, terminated, truncated);
        for (var i = 0; i < envs.Length; i++)
        {
            if (endedEpisodes[i] is { } episode)
                finished.Add((i, episode));
            endedEpisodes[i] = null;
        }
    }

    /// <summary>Steps every environment, auto-resetting the ones that end.</summary>
    protected abstract void StepAll(ReadOnlySpan<float> actions, Span<float> observations, Span<double> rewards, Span<bool> terminated, Span<bool> truncated);

    /// <summary>Steps environment <paramref name="i"/> and resets it if its episode ended; safe to call for different i at once.</summary>
    protected (double Reward, bool Terminated, bool Truncated) StepOne(int i, ReadOnlySpan<float> action, Span<float> observation)
    {
        var env = envs[i];
        var result = env.Step(action, observation);
        infos[i].CopyFrom(env.Info);
        if (result.Done)
        {
            // Taken before the reset below clears it.
            endedEpisodes[i] = (env as EpisodeStatistics)?.LastEpisode;
            observation.CopyTo(finalObservations.AsSpan(i * obsSize, obsSize));
            env.Reset(null, observation);
        }
        return (result.Reward, result.Terminated, result.Truncated);
    }

    protected int ObservationSize => obsSize;

    protected int ActionSize => actSize;

    private static void CheckLength(int actual, int expected, string what)
    {
        if (actual != expected)
            throw new ArgumentException($"The {what} buffer holds {actual} values; this vector environment needs {expected}.", what);
    }

    public virtual void Dispose()
    {
        foreach (var env in envs)
            env.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Steps the environments one after another on the calling thread, like SB3's DummyVecEnv.</summary>
public sealed class SyncVectorEnv(IReadOnlyList<IEnv> envs) : VectorEnv(envs)
{
    protected override void StepAll(ReadOnlySpan<float> actions, Span<float> observations, Span<double> rewards, Span<bool> terminated, Span<bool> truncated)
    {
        for (var i = 0; i < NumEnvs; i++)
        {
            var (r, te, tr) = StepOne(i, actions.Slice(i * ActionSize, ActionSize), observations.Slice(i * ObservationSize, ObservationSize));
            rewards[i] = r;
            terminated[i] = te;
            truncated[i] = tr;
        }
    }
}
