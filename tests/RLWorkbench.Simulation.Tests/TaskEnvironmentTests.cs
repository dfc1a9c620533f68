using RLWorkbench.Gym.Random;
using RLWorkbench.Gym.Spaces;
using RLWorkbench.Simulation.Conformance;

namespace RLWorkbench.Simulation.Tests;

public class TaskEnvironmentTests
{
    [Theory]
    [InlineData(ObservationLayout.Seed67, 1, 7 + 20 + 3 + 1)]
    [InlineData(ObservationLayout.Seed67, 4, 67)]
    [InlineData(ObservationLayout.Seed67, 5, 35 + 20 + 3 + 25)]
    [InlineData(ObservationLayout.Notebook94, 4, 94)]
    [InlineData(ObservationLayout.Notebook94, 2, 14 + 50 + 4)]
    public void Observation_and_action_sizes_follow_the_layout_and_agent_count(ObservationLayout layout, int agents, int obsSize)
    {
        using var env = new TaskEnvironment(new TaskEnvironmentOptions { Layout = layout, Agents = agents }, seed: 1);
        Assert.Equal(obsSize, env.ObservationSpace.FlatSize);
        var box = Assert.IsType<Box>(env.ActionSpace);
        Assert.Equal(3 * agents, box.FlatSize);
        Assert.Equal(0f, box.Low[0]);
        Assert.Equal(1f, box.High[0]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(6)]
    [InlineData(-1)]
    public void Agent_counts_outside_one_to_five_are_refused_with_the_allowed_range(int agents)
    {
        var e = Assert.Throws<ArgumentException>(() => new TaskEnvironment(new TaskEnvironmentOptions { Agents = agents }, seed: 1));
        Assert.Equal($"agents must be between 1 and 5, got {agents}.", e.Message);
    }

    [Fact]
    public void A_wrong_action_length_is_refused_naming_both_lengths()
    {
        using var env = new TaskEnvironment(new TaskEnvironmentOptions(), seed: 1);
        var obs = new float[67];
        env.Reset(1, obs);
        var e = Assert.Throws<ArgumentException>(() => env.Step(new float[11], obs));
        Assert.StartsWith("The action has 11 values; this environment with 4 agents takes 12 (3 per agent).", e.Message);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Non_finite_action_values_are_refused(float bad)
    {
        using var env = new TaskEnvironment(new TaskEnvironmentOptions(), seed: 1);
        var obs = new float[67];
        env.Reset(1, obs);
        var action = new float[12];
        action[5] = bad;
        var e = Assert.Throws<ArgumentException>(() => env.Step(action, obs));
        Assert.StartsWith($"Action value 5 is {bad}", e.Message);
    }

    [Theory]
    [InlineData("nope", "unknown layout 'nope'; allowed: seed67, notebook94.")]
    public void Unknown_layout_names_are_refused(string name, string message) =>
        Assert.Equal(message, Assert.Throws<ArgumentException>(() => TaskEnvironmentOptions.ParseLayout(name)).Message);

    [Fact]
    public void Unknown_variant_names_are_refused() =>
        Assert.Equal("unknown variant 'simple'; allowed: base, pool.", Assert.Throws<ArgumentException>(() => TaskEnvironmentOptions.ParseVariant("simple")).Message);

    [Fact]
    public void Actions_outside_the_box_are_clipped_before_use()
    {
        // 7 and -3 act exactly like 1 and 0: same seed, same rewards and observations.
        var (rewardsA, obsA) = Rollout(EnvironmentVariant.Base, seed: 3, steps: 50, _ => 7f, alternateLow: -3f);
        var (rewardsB, obsB) = Rollout(EnvironmentVariant.Base, seed: 3, steps: 50, _ => 1f, alternateLow: 0f);
        Assert.Equal(rewardsA, rewardsB);
        Assert.Equal(obsA, obsB);
    }

    [Fact]
    public void Episodes_terminate_at_step_200_and_are_never_truncated()
    {
        using var env = new TaskEnvironment(new TaskEnvironmentOptions(), seed: 4);
        var obs = new float[67];
        env.Reset(4, obs);
        var action = Enumerable.Repeat(1f, 12).ToArray();
        for (var t = 1; t <= 200; t++)
        {
            var r = env.Step(action, obs);
            Assert.Equal(t == 200, r.Terminated);
            Assert.False(r.Truncated);
        }
        Assert.Equal(1.0f, obs[50]); // t / 200 global of the Seed67 layout
    }

    [Fact]
    public void The_same_seed_gives_the_same_episode_and_another_seed_does_not()
    {
        var a = Rollout(EnvironmentVariant.Base, seed: 11, steps: 200, t => (t % 3) / 2f);
        var b = Rollout(EnvironmentVariant.Base, seed: 11, steps: 200, t => (t % 3) / 2f);
        var c = Rollout(EnvironmentVariant.Base, seed: 12, steps: 200, t => (t % 3) / 2f);
        Assert.Equal(a.Rewards, b.Rewards);
        Assert.NotEqual(a.Rewards, c.Rewards);
    }

    [Fact]
    public void The_worker_pool_gives_the_same_numbers_on_threads_with_latency_as_inline()
    {
        var inline = Rollout(EnvironmentVariant.Pool, seed: 5, steps: 40, _ => 1f, concurrent: false);
        var threaded = Rollout(EnvironmentVariant.Pool, seed: 5, steps: 40, _ => 1f, concurrent: true, latency: true);
        Assert.Equal(inline.Rewards, threaded.Rewards);
        Assert.Equal(inline.Observations, threaded.Observations);
    }

    [Fact]
    public void The_worker_pool_runs_tasks_at_once_but_never_more_than_max_concurrent()
    {
        // Four agents each take a task every step and every task sleeps 20 ms, so on worker threads
        // tasks overlap; the semaphore must still hold them to two at a time.
        var options = new TaskEnvironmentOptions { Variant = EnvironmentVariant.Pool, MaxConcurrent = 2, SimulateLatency = true, InitialTasks = 80 };
        using var env = new TaskEnvironment(options, seed: 2);
        var obs = new float[67];
        env.Reset(2, obs);
        var action = Enumerable.Repeat(1f, 12).ToArray();
        for (var t = 0; t < 10; t++)
            env.Step(action, obs);
        Assert.Equal(40, env.Info["pool_total_processed"]);
        Assert.Equal(env.Info["pool_completed"] + env.Info["pool_failed"], env.Info["pool_total_processed"]);
        Assert.Equal(0, env.Info["pool_active"]);
        Assert.Equal(2, env.Info["max_concurrent"]);
        Assert.Equal(2, env.Info["pool_peak_active"]);
    }

    [Fact]
    public void A_replay_reports_the_step_field_and_both_values_of_the_first_mismatch()
    {
        var trace = GoldenTraceFile.Load(RepositoryPaths.GoldenTraces)[0];
        var steps = trace.Steps.ToList();
        steps[9] = steps[9] with { Reward = steps[9].Reward + 0.001 };
        var result = TraceReplayer.Replay(trace with { Steps = steps });
        Assert.False(result.Passed);
        Assert.Equal(10, result.Mismatch!.Step);
        Assert.Equal("reward", result.Mismatch.Field);
        Assert.Equal(GoldenTraceFile.Show(steps[9].Reward), result.Mismatch.Expected);
        Assert.Equal(GoldenTraceFile.Show(steps[9].Reward - 0.001), result.Mismatch.Actual);
    }

    [Fact]
    public void A_replay_fails_when_the_environment_draws_differently_from_the_record()
    {
        var trace = GoldenTraceFile.Load(RepositoryPaths.GoldenTraces)[0];
        var draws = trace.ResetDraws.ToList();
        draws[0] = draws[0] with { Kind = DrawKind.Random, Args = [] };
        var result = TraceReplayer.Replay(trace with { ResetDraws = draws });
        Assert.Equal(0, result.Mismatch!.Step);
        Assert.Equal("draws", result.Mismatch.Field);
        Assert.Contains("called uniform(0.5, 1)", result.Mismatch.Actual);
    }

    [Fact]
    public void An_observation_mismatch_names_the_index()
    {
        var trace = GoldenTraceFile.Load(RepositoryPaths.GoldenTraces)[2];
        var steps = trace.Steps.ToList();
        var obs = (float[])steps[0].Observation.Clone();
        obs[30] += 0.5f;
        steps[0] = steps[0] with { Observation = obs };
        var result = TraceReplayer.Replay(trace with { Steps = steps });
        Assert.Equal(1, result.Mismatch!.Step);
        Assert.Equal("obs[30]", result.Mismatch.Field);
    }

    [Fact]
    public void Info_reports_episode_figures_consistent_with_the_state()
    {
        using var env = new TaskEnvironment(new TaskEnvironmentOptions(), seed: 9);
        var obs = new float[67];
        env.Reset(9, obs);
        var action = Enumerable.Repeat(1f, 12).ToArray();
        var completed = 0.0;
        for (var t = 0; t < 200; t++)
        {
            env.Step(action, obs);
            completed += env.Info["completed_tasks"];
        }
        Assert.Equal(completed, env.Info["episode_tasks_completed"]);
        var waiting = env.Queue.Count + env.ActiveTasks;
        Assert.Equal(completed / (completed + waiting), env.Info["completion_rate"], 12);
        // Every ordered pair collaborated every step: each off-diagonal entry is 1.01^200.
        var expectedMean = (4 + 12 * Math.Pow(1.01, 200)) / 16;
        Assert.Equal(expectedMean, env.Info["mean_collaboration"], 9);
    }

    private static (List<double> Rewards, List<float[]> Observations) Rollout(
        EnvironmentVariant variant, int seed, int steps, Func<int, float> value, float? alternateLow = null, bool concurrent = false, bool latency = false)
    {
        var options = new TaskEnvironmentOptions { Variant = variant, RunConcurrently = concurrent, SimulateLatency = latency };
        using var env = new TaskEnvironment(options, new SeededRandomSource(0));
        var obs = new float[env.ObservationSpace.FlatSize];
        env.Reset(seed, obs);
        var rewards = new List<double>();
        var observations = new List<float[]>();
        var action = new float[12];
        for (var t = 0; t < steps; t++)
        {
            for (var i = 0; i < action.Length; i++)
                action[i] = alternateLow is { } low && (i + t) % 2 == 0 ? low : value(t);
            rewards.Add(env.Step(action, obs).Reward);
            observations.Add((float[])obs.Clone());
        }
        return (rewards, observations);
    }
}
