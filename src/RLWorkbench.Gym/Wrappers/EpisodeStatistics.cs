using RLWorkbench.Gym.Spaces;

namespace RLWorkbench.Gym.Wrappers;

/// <summary>A finished episode: its return, its length and the environment's info at its last step.</summary>
public sealed record EpisodeRecord(double Return, int Length, IReadOnlyDictionary<string, double> FinalInfo);

/// <summary>
/// Adds up reward and length of the running episode, like Gymnasium's RecordEpisodeStatistics.
/// After the step that ends an episode, <see cref="LastEpisode"/> holds it until the next reset.
/// </summary>
public sealed class EpisodeStatistics(IEnv inner) : IEnv
{
    private double runningReturn;
    private int runningLength;

    public IEnv Inner => inner;

    public EpisodeRecord? LastEpisode { get; private set; }

    public Space ObservationSpace => inner.ObservationSpace;

    public Space ActionSpace => inner.ActionSpace;

    public EnvInfo Info => inner.Info;

    public void Reset(int? seed, Span<float> observation)
    {
        inner.Reset(seed, observation);
        runningReturn = 0;
        runningLength = 0;
        LastEpisode = null;
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        var result = inner.Step(action, observation);
        runningReturn += result.Reward;
        runningLength++;
        if (result.Done)
            LastEpisode = new EpisodeRecord(runningReturn, runningLength, inner.Info.ToDictionary());
        return result;
    }

    public void Dispose() => inner.Dispose();
}
