using RLWorkbench.Gym.Vector;
using RLWorkbench.Gym.Wrappers;

namespace RLWorkbench.Gym.Tests;

public class VectorEnvTests
{
    public static TheoryData<bool> Threaded => new() { false, true };

    [Theory]
    [MemberData(nameof(Threaded))]
    public void An_ended_episode_resets_in_the_same_step_and_keeps_its_final_observation(bool threaded)
    {
        var envs = new List<IEnv> { new EpisodeStatistics(new CounterEnv(3)), new EpisodeStatistics(new CounterEnv(5)) };
        using IVectorEnv vector = threaded ? new ThreadedVectorEnv(envs, workers: 2) : new SyncVectorEnv(envs);
        var obs = new float[4];
        var rewards = new double[2];
        var terminated = new bool[2];
        var truncated = new bool[2];
        vector.Reset(10, obs);
        var starts = (obs[0], obs[2]);
        float[] actions = [0.5f, -0.5f];
        for (var t = 1; t <= 3; t++)
            vector.Step(actions, obs, rewards, terminated, truncated);

        Assert.Equal([true, false], terminated);
        Assert.Equal(3.5, rewards[0]);
        Assert.Equal(2.5, rewards[1]);
        // Env 0 already holds its next episode's first observation; the last one is kept aside.
        Assert.Equal(0f, obs[1]);
        Assert.Equal([starts.Item1, 3f], vector.FinalObservation(0).ToArray());
        Assert.Equal(3f, obs[3]);
        var (env, episode) = Assert.Single(vector.FinishedEpisodes);
        Assert.Equal(0, env);
        Assert.Equal(1.5 + 2.5 + 3.5, episode.Return);
        Assert.Equal(3, episode.Length);
        Assert.Equal(3, episode.FinalInfo["t"]);
        Assert.Equal(3, vector.Info(0)["t"]);

        vector.Step(actions, obs, rewards, terminated, truncated);
        Assert.Empty(vector.FinishedEpisodes);
    }

    [Fact]
    public void Truncation_is_reported_apart_from_termination()
    {
        using var vector = new SyncVectorEnv([new CounterEnv(2, truncate: true)]);
        var obs = new float[2];
        var rewards = new double[1];
        var terminated = new bool[1];
        var truncated = new bool[1];
        vector.Reset(0, obs);
        vector.Step([0f], obs, rewards, terminated, truncated);
        vector.Step([0f], obs, rewards, terminated, truncated);
        Assert.False(terminated[0]);
        Assert.True(truncated[0]);
        Assert.Equal(2f, vector.FinalObservation(0)[1]);
    }

    [Fact]
    public void Seeds_go_to_environment_i_as_seed_plus_i_and_threads_change_nothing()
    {
        static float[] Run(bool threaded)
        {
            var envs = Enumerable.Range(0, 3).Select(_ => (IEnv)new CounterEnv(2)).ToList();
            using IVectorEnv vector = threaded ? new ThreadedVectorEnv(envs) : new SyncVectorEnv(envs);
            var obs = new float[6];
            var trace = new List<float>();
            vector.Reset(100, obs);
            trace.AddRange(obs);
            for (var t = 0; t < 5; t++)
            {
                vector.Step([0f, 0f, 0f], obs, new double[3], new bool[3], new bool[3]);
                trace.AddRange(obs);
            }
            return [.. trace];
        }

        var sync = Run(false);
        Assert.Equal(sync, Run(true));
        var single = new CounterEnv(2);
        var first = new float[2];
        single.Reset(101, first);
        Assert.Equal(first[0], sync[2]);
    }

    [Fact]
    public void Buffers_of_the_wrong_size_are_refused()
    {
        using var vector = new SyncVectorEnv([new CounterEnv(2), new CounterEnv(2)]);
        var e = Assert.Throws<ArgumentException>(() => vector.Reset(0, new float[3]));
        Assert.StartsWith("The observations buffer holds 3 values; this vector environment needs 4.", e.Message);
        Assert.Throws<ArgumentException>(() => vector.Step(new float[1], new float[4], new double[2], new bool[2], new bool[2]));
    }
}
