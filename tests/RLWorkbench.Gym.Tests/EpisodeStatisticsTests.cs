using RLWorkbench.Gym.Evaluation;
using RLWorkbench.Gym.Wrappers;

namespace RLWorkbench.Gym.Tests;

public class EpisodeStatisticsTests
{
    [Fact]
    public void Return_and_length_are_recorded_when_the_episode_ends_and_cleared_on_reset()
    {
        using var env = new EpisodeStatistics(new CounterEnv(4));
        var obs = new float[2];
        env.Reset(0, obs);
        for (var t = 0; t < 3; t++)
        {
            env.Step([1f], obs);
            Assert.Null(env.LastEpisode);
        }
        env.Step([1f], obs);
        Assert.Equal(2 + 3 + 4 + 5, env.LastEpisode!.Return);
        Assert.Equal(4, env.LastEpisode.Length);
        env.Reset(null, obs);
        Assert.Null(env.LastEpisode);
    }

    [Fact]
    public void The_policy_runner_plays_whole_episodes_with_seed_plus_k()
    {
        var inner = new CounterEnv(5);
        var records = PolicyRunner.Run(inner, (_, a) => a[0] = 0f, episodes: 3, seed: 7);
        Assert.Equal(3, records.Count);
        Assert.All(records, r => Assert.Equal(15, r.Return));
        Assert.Equal(3, inner.Resets);
    }

    [Fact]
    public void Summary_uses_the_population_standard_deviation()
    {
        var s = Summary.Of([1.0, 2.0, 3.0, 4.0]);
        Assert.Equal(2.5, s.Mean);
        Assert.Equal(Math.Sqrt(1.25), s.Std, 12);
        Assert.Equal(1.0, s.Min);
        Assert.Equal(4.0, s.Max);
    }
}
