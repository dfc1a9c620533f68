using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Providers;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Routing.Tests;

/// <summary>Issue 14 item 1 wired: the providers' health in a tabular learner's state, and task arrivals on the simulated clock.</summary>
public class HealthStateTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_joint_labels_follow_the_joint_index()
    {
        Assert.Equal(256, ProviderStateReader.Labels.Count);
        Assert.Equal("openai:unknown/unknown anthropic:unknown/unknown", ProviderStateReader.Labels[0]);
        var states = new[] { new ProviderHealthState(HeadroomLevel.Low, LatencyLevel.Slow), new ProviderHealthState(HeadroomLevel.Ample, LatencyLevel.Fast) };
        Assert.Equal("openai:low/slow anthropic:ample/fast", ProviderStateReader.Labels[HealthBuckets.JointIndex(states)]);
    }

    [Fact]
    public void A_health_coordinator_routes_from_the_state_the_providers_are_in_when_the_task_comes_and_bootstraps_from_theirs_after()
    {
        var clock = new VirtualClock(Start);
        var board = new ProviderHealthBoard(clock);
        var reader = new ProviderStateReader(board.Snapshot, new HealthBuckets());
        var c = new TaskTypeCoordinator(new QLearningOptions { EpsilonStart = 0 }, new LoadTrackerOptions(), new ScriptedRandom(("random", 0.99), ("random", 0.99)), providerState: reader);
        Assert.Equal(4 * 256, c.States.Count);
        Assert.Equal("analysis|openai:unknown/unknown anthropic:unknown/unknown", c.States[0]);

        var d = c.Decide(new RoutingTask("c1", "x", TaskType.Coding, 0.5, 0.5));
        Assert.Equal("coding|openai:unknown/unknown anthropic:unknown/unknown", d.State);
        Assert.Equal(256 + 0, d.StateIndex);

        // anthropic answers: 1 of 20 requests left (low), 6 s (slow).
        board.For(Provider.Anthropic).Observe(new RateLimitReading(new RateLimitWindow(20, 1, Start.AddSeconds(40)), RateLimitWindow.Unknown, null), false, 6.0, Start);
        var u = c.Complete(d, 0.5, TaskType.Research);
        Assert.Equal("research|openai:unknown/unknown anthropic:low/slow", u.NextState);
        Assert.Equal("coding|openai:unknown/unknown anthropic:low/slow", c.Decide(new RoutingTask("c2", "x", TaskType.Coding, 0.5, 0.5)).State);
    }

    [Fact]
    public void Arrivals_move_the_clock_by_exponential_gaps_that_depend_only_on_the_seed_and_iteration()
    {
        var clock = new VirtualClock(Start);
        var arrivals = new TaskArrivals(clock, 30, seed: 42);
        var gaps = Enumerable.Range(0, 2000).Select(arrivals.Next).ToArray();

        Assert.Equal(gaps.Sum(), (clock.GetUtcNow() - Start).TotalSeconds, 6);
        // 30 a minute: a mean gap of 2 s (standard error 2 / sqrt(2000) = 0.045 s).
        Assert.InRange(gaps.Average(), 2 - 0.15, 2 + 0.15);
        Assert.Equal(gaps[7], new TaskArrivals(new VirtualClock(Start), 30, seed: 42).Next(7));
        Assert.NotEqual(gaps[7], new TaskArrivals(new VirtualClock(Start), 30, seed: 43).Next(7));
    }

    [Fact]
    public async Task A_health_state_run_with_arrivals_records_the_health_in_its_states_and_is_reproducible()
    {
        using var tmp = new TempDir();
        var options = new QlearnOptions
        {
            Profile = ProviderAwareRoutingTests.ProfilePath(), State = QlearnOptions.StateKinds.Health, ArrivalsPerMinute = 40, Iterations = 60,
        };
        async Task<IterationRow[]> RunInto(string dir)
        {
            await QlearnSession.RunAsync(new QlearnRequest { Options = options, OutDirectory = tmp[dir], RunsRoot = tmp[dir + "-root"] }, new CollectingProgress(), CancellationToken.None);
            return IterationRow.ReadCsv(tmp[dir + "/iterations.csv"]).ToArray();
        }

        var a = await RunInto("a");
        var b = await RunInto("b");

        Assert.Equal(60, a.Length);
        Assert.Equal("openai:unknown/unknown anthropic:unknown/unknown", a[0].State.Split('|')[1]);
        Assert.All(a, r => Assert.Contains(r.State, ProviderStateReader.Labels.Select(l => $"{r.TaskType}|{l}")));
        Assert.Contains(a, r => r.State.Contains("anthropic:ample/", StringComparison.Ordinal));
        Assert.Equal(a.Select(r => (r.State, r.Action, r.RawReward, r.LatencySeconds)), b.Select(r => (r.State, r.Action, r.RawReward, r.LatencySeconds)));
    }

    [Theory]
    [InlineData("{\"state\": \"load\"}", "Unknown state 'load'; the states are coordinator (the coordinator's own) and health (with the providers' health).")]
    [InlineData("{\"arrivalsPerMinute\": 0}", "arrivalsPerMinute must be a number above 0 and at most 1,000,000, not 0.")]
    [InlineData("{\"arrivalsPerMinute\": 10, \"backend\": \"real\"}", "arrivalsPerMinute paces the simulated providers' clock; the real and replay backends keep their own time, so leave it out.")]
    [InlineData("{\"healthBuckets\": {\"lowHeadroom\": 1.5}}", "lowHeadroom must be between 0 and 1 (exclusive), not 1.5.")]
    public void Bad_health_and_arrival_settings_are_one_sentence(string json, string message)
    {
        var options = System.Text.Json.JsonSerializer.Deserialize<QlearnOptions>(json, Tracking.Run.Json)!;
        Assert.Equal(message, Assert.Throws<RoutingInputException>(() => options.Resolve()).Message);
    }

    [Fact]
    public void Arrivals_without_rate_limits_are_refused_before_a_run_exists()
    {
        var options = new QlearnOptions { ArrivalsPerMinute = 30 }.Resolve();
        var e = Assert.Throws<RoutingInputException>(() => QlearnSession.Prepare(options, _ => null));
        Assert.Equal("arrivalsPerMinute needs a simulation profile with a \"rateLimits\" section (for example experiments/profiles/rate-limited.json): without limits, when tasks arrive changes nothing.", e.Message);
    }
}
