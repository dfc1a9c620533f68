namespace RLWorkbench.Ppo;

/// <summary>One finished training episode: which environment, its return and length, and the environment's info at its last step.</summary>
public sealed record FinishedEpisode(long Step, int Env, double Return, int Length, IReadOnlyDictionary<string, double> FinalInfo);

/// <summary>
/// Running returns and lengths per environment, and the last 100 finished episodes (SB3's
/// ep_info_buffer) for ep_rew_mean and ep_len_mean. Part of a checkpoint, so a resumed run's means
/// continue where they were.
/// </summary>
public sealed class EpisodeTracker
{
    public const int Window = 100;

    private readonly double[] runningReturns;
    private readonly int[] runningLengths;
    private readonly Queue<(double Return, int Length)> recent = new();

    public EpisodeTracker(int envs)
    {
        runningReturns = new double[envs];
        runningLengths = new int[envs];
    }

    public long EpisodesFinished { get; private set; }

    public IReadOnlyCollection<(double Return, int Length)> Recent => recent;

    public double MeanReturn => recent.Count == 0 ? double.NaN : recent.Average(e => e.Return);

    public double MeanLength => recent.Count == 0 ? double.NaN : recent.Average(e => e.Length);

    /// <summary>Adds a step's reward; returns true when this finished the episode, with its return and length.</summary>
    public bool Record(int env, double reward, bool done, out double episodeReturn, out int length)
    {
        runningReturns[env] += reward;
        runningLengths[env]++;
        episodeReturn = runningReturns[env];
        length = runningLengths[env];
        if (!done)
            return false;
        recent.Enqueue((episodeReturn, length));
        while (recent.Count > Window)
            recent.Dequeue();
        EpisodesFinished++;
        runningReturns[env] = 0;
        runningLengths[env] = 0;
        return true;
    }

    /// <summary>Environments restart after a resume, so only the finished-episode window carries over.</summary>
    public void Restore(IEnumerable<(double Return, int Length)> episodes, long finished)
    {
        recent.Clear();
        foreach (var e in episodes.TakeLast(Window))
            recent.Enqueue(e);
        EpisodesFinished = finished;
        Array.Clear(runningReturns);
        Array.Clear(runningLengths);
    }
}
