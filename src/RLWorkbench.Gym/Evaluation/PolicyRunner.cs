using RLWorkbench.Gym.Wrappers;

namespace RLWorkbench.Gym.Evaluation;

/// <summary>Chooses an action for an observation; writes it into the action buffer.</summary>
public delegate void Policy(ReadOnlySpan<float> observation, Span<float> action);

/// <summary>Runs a policy on one environment for whole episodes and returns what each episode scored.</summary>
public static class PolicyRunner
{
    /// <summary>
    /// Plays <paramref name="episodes"/> episodes; episode k is reset with seed + k when a seed is
    /// given, so runs with the same seed see the same episodes.
    /// </summary>
    public static List<EpisodeRecord> Run(IEnv env, Policy policy, int episodes, int? seed, Action<int, EpisodeRecord>? onEpisode = null)
    {
        if (episodes < 1)
            throw new ArgumentOutOfRangeException(nameof(episodes), episodes, $"episodes must be at least 1, got {episodes}.");
        var stats = env as EpisodeStatistics ?? new EpisodeStatistics(env);
        var obs = new float[env.ObservationSpace.FlatSize];
        var action = new float[env.ActionSpace.FlatSize];
        var records = new List<EpisodeRecord>(episodes);
        for (var k = 0; k < episodes; k++)
        {
            stats.Reset(seed + k, obs);
            while (true)
            {
                policy(obs, action);
                if (stats.Step(action, obs).Done)
                    break;
            }
            records.Add(stats.LastEpisode!);
            onEpisode?.Invoke(k, stats.LastEpisode!);
        }
        return records;
    }
}

/// <summary>Mean, spread and range of a list of numbers (population standard deviation, as SB3's evaluate_policy).</summary>
public readonly record struct Summary(int Count, double Mean, double Std, double Min, double Max)
{
    public static Summary Of(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0)
            return new Summary(0, double.NaN, double.NaN, double.NaN, double.NaN);
        var mean = values.Average();
        var variance = values.Sum(v => (v - mean) * (v - mean)) / values.Count;
        return new Summary(values.Count, mean, Math.Sqrt(variance), values.Min(), values.Max());
    }
}
