using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Production;
using RLWorkbench.Routing.Providers;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Routing.Tests;

/// <summary>Issue 14 item 4: production routing follows the learned policy with the live provider state.</summary>
public class ProviderAwareRoutingTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private const int CoderOpenAI = 4, CoderAnthropic = 5, ValidatorOpenAI = 6;

    private static QLearningCoordinator Coordinator(params (int Action, double Value)[] coding)
    {
        var c = new TaskTypeCoordinator(new QLearningOptions(), new LoadTrackerOptions(), new SeededRandomSource(1));
        var q = (TabularQLearner)c.RoutingLearner;
        foreach (var (a, v) in coding)
            q[c.StateIndex("coding"), a] = v;
        return c;
    }

    /// <summary>A provider's snapshot after one answer that left <paramref name="left"/> of 20 requests and took <paramref name="latency"/> seconds.</summary>
    private static ProviderHealthSnapshot Health(Provider provider, long? left, double? latency, TimeSpan? retryAfter = null)
    {
        var health = new ProviderHealth(provider, new VirtualClock(Start));
        var window = left is { } l ? new RateLimitWindow(20, l, Start.AddSeconds(30)) : RateLimitWindow.Unknown;
        health.Observe(new RateLimitReading(window, RateLimitWindow.Unknown, retryAfter), retryAfter is not null, latency, Start);
        return health.Snapshot();
    }

    private static ProviderAwareDecision Choose(QLearningCoordinator c, params ProviderHealthSnapshot[] health) =>
        ProviderAwareChoice.Choose(c, c.StateIndex("coding"), health, new ProviderAwareOptions());

    [Fact]
    public void Without_any_reading_the_choice_is_the_learned_greedy_one()
    {
        var c = Coordinator((CoderAnthropic, 0.9), (CoderOpenAI, 0.7));
        Assert.Equal(new ProviderAwareDecision(CoderAnthropic, null), Choose(c, Health(Provider.OpenAI, null, null), Health(Provider.Anthropic, null, null)));
    }

    [Fact]
    public void A_provider_with_no_headroom_left_is_never_chosen_however_good_its_value()
    {
        var c = Coordinator((CoderAnthropic, 0.9), (CoderOpenAI, 0.7), (ValidatorOpenAI, 0.72));
        var d = Choose(c, Health(Provider.OpenAI, 10, 2.0), Health(Provider.Anthropic, 0, 3.0));
        Assert.Equal(new ProviderAwareDecision(ValidatorOpenAI, "instead of coder/anthropic: anthropic has no headroom left"), d);
    }

    [Fact]
    public void A_provider_waiting_out_a_429_is_exhausted_even_without_headers()
    {
        var c = Coordinator((CoderAnthropic, 0.9), (CoderOpenAI, 0.7));
        var d = Choose(c, Health(Provider.OpenAI, null, null), Health(Provider.Anthropic, null, null, TimeSpan.FromSeconds(20)));
        Assert.Equal(new ProviderAwareDecision(CoderOpenAI, "instead of coder/anthropic: anthropic has no headroom left"), d);
    }

    [Fact]
    public void Near_its_limit_a_provider_loses_a_close_alternative_but_keeps_a_clear_winner()
    {
        // anthropic 2 of 20 left: 0.05 x 0.9 = 0.045 off its value; openai untouched (20 of 20 left).
        var close = Coordinator((CoderAnthropic, 0.74), (CoderOpenAI, 0.71));
        Assert.Equal(new ProviderAwareDecision(CoderOpenAI, "instead of coder/anthropic: anthropic is near its limit or slow"),
            Choose(close, Health(Provider.OpenAI, 20, 2.0), Health(Provider.Anthropic, 2, 3.0)));
        var clear = Coordinator((CoderAnthropic, 0.76), (CoderOpenAI, 0.71));
        Assert.Equal(new ProviderAwareDecision(CoderAnthropic, null), Choose(clear, Health(Provider.OpenAI, 20, 2.0), Health(Provider.Anthropic, 2, 3.0)));
    }

    [Fact]
    public void A_provider_slower_than_slow_seconds_pays_per_second_beyond_it()
    {
        // 9 s smoothed: 0.02 x (9 - 5) = 0.08 off; 0.78 - 0.08 < 0.71.
        var c = Coordinator((CoderAnthropic, 0.78), (CoderOpenAI, 0.71));
        Assert.Equal(CoderOpenAI, Choose(c, Health(Provider.OpenAI, null, 2.0), Health(Provider.Anthropic, null, 9.0)).Action);
        Assert.Equal(CoderAnthropic, Choose(c, Health(Provider.OpenAI, null, 2.0), Health(Provider.Anthropic, null, 6.0)).Action);
    }

    [Fact]
    public void With_every_provider_exhausted_the_greedy_choice_stays()
    {
        var c = Coordinator((CoderAnthropic, 0.9), (CoderOpenAI, 0.7));
        Assert.Equal(new ProviderAwareDecision(CoderAnthropic, null), Choose(c, Health(Provider.OpenAI, 0, 2.0), Health(Provider.Anthropic, 0, 3.0)));
    }

    /// <summary>A base coordinator over <paramref name="chains"/> with these learned values for coding, in the chains' order.</summary>
    private static QLearningCoordinator ChainCoordinator(params (string Chain, double Value)[] chains)
    {
        var c = QLearningCoordinator.Create(TaskTypeCoordinator.Name, new QLearningOptions(), new LoadTrackerOptions(), new SeededRandomSource(1),
            chains: chains.Select(x => RoutingChain.Parse(x.Chain)).ToArray());
        var q = (TabularQLearner)c.RoutingLearner;
        for (var a = 0; a < chains.Length; a++)
            q[c.StateIndex("coding"), a] = chains[a].Value;
        return c;
    }

    [Fact]
    public void A_chain_is_never_chosen_while_any_provider_it_calls_has_no_headroom_left()
    {
        // The best chain's first step is on anthropic (plenty left), its second on openai (none left): it is passed over.
        var c = ChainCoordinator(("coder/anthropic>validator/openai", 0.9), ("coder/openai", 0.85), ("coder/anthropic>validator/anthropic", 0.7));
        Assert.Equal(new ProviderAwareDecision(2, "instead of coder/anthropic>validator/openai: openai has no headroom left"),
            Choose(c, Health(Provider.OpenAI, 0, 2.0), Health(Provider.Anthropic, 20, 3.0)));
        // A provider waiting out a 429 blocks every chain that calls it, at any step.
        Assert.Equal(new ProviderAwareDecision(2, "instead of coder/anthropic>validator/openai: openai has no headroom left"),
            Choose(c, Health(Provider.OpenAI, null, null, TimeSpan.FromSeconds(20)), Health(Provider.Anthropic, null, null)));
    }

    [Fact]
    public void A_chain_calling_a_provider_twice_needs_two_requests_left_there()
    {
        // openai has one request left: enough for a chain that calls it once, not for one whose second step would earn a 429.
        var c = ChainCoordinator(("coder/openai>validator/openai", 0.9), ("coder/openai>validator/anthropic", 0.6), ("coder/anthropic", 0.5));
        // 1 of 20 left costs 0.05 x 0.95 = 0.0475 per openai call: 0.6 - 0.0475 still beats 0.5.
        Assert.Equal(new ProviderAwareDecision(1, "instead of coder/openai>validator/openai: openai has no headroom left"),
            Choose(c, Health(Provider.OpenAI, 1, 2.0), Health(Provider.Anthropic, 20, 3.0)));
        Assert.Equal(new ProviderAwareDecision(0, null), Choose(c, Health(Provider.OpenAI, 2, 2.0), Health(Provider.Anthropic, 20, 3.0)));
    }

    [Fact]
    public void A_chain_pays_a_providers_nearness_to_its_limit_once_per_call_it_sends_there()
    {
        // anthropic 2 of 20 left: 0.05 x 0.9 = 0.045 per call, so a chain with both steps there gives up 0.09 (paying once, the
        // worst over its providers, 0.80 - 0.045 would have stayed ahead of 0.72); openai is untouched.
        var close = ChainCoordinator(("coder/anthropic>validator/anthropic", 0.80), ("coder/openai", 0.72));
        Assert.Equal(new ProviderAwareDecision(1, "instead of coder/anthropic>validator/anthropic: anthropic is near its limit or slow"),
            Choose(close, Health(Provider.OpenAI, 20, 2.0), Health(Provider.Anthropic, 2, 3.0)));
        // 0.82 - 0.09 = 0.73 still beats 0.72.
        var clear = ChainCoordinator(("coder/anthropic>validator/anthropic", 0.82), ("coder/openai", 0.72));
        Assert.Equal(new ProviderAwareDecision(0, null), Choose(clear, Health(Provider.OpenAI, 20, 2.0), Health(Provider.Anthropic, 2, 3.0)));
        // Both providers slow: 9 s on each is 0.02 x (9 - 5) = 0.08 per call; a two-provider chain pays both, 0.9 - 0.16 = 0.74 < 0.83 - 0.08.
        var slow = ChainCoordinator(("coder/anthropic>validator/openai", 0.9), ("coder/openai", 0.83));
        Assert.Equal(new ProviderAwareDecision(1, "instead of coder/anthropic>validator/openai: anthropic, openai is near its limit or slow"),
            Choose(slow, Health(Provider.OpenAI, null, 9.0), Health(Provider.Anthropic, null, 9.0)));
    }

    [Fact]
    public void Bad_costs_are_one_sentence()
    {
        var e = Assert.Throws<RoutingInputException>(() => new ProviderAwareOptions { HeadroomCost = -1 }.Validate());
        Assert.Equal("headroomCost (-1) and latencyCost (0.02) must be finite numbers of at least 0.", e.Message);
    }

    private static async Task<(RouterHealth Health, List<RouteOutcome> Outcomes, IReadOnlyList<CallRecord> Calls)> RouteCoding(bool aware, int requests)
    {
        var options = new QlearnOptions { Profile = ProfilePath() }.Resolve();
        var ledger = new CallLedger();
        using var backends = ChatBackends.Build(options, _ => null, TimeProvider.System, null, PriceTable.Default, ledger, _ => { }, null, SimulationProfile.Load(options.Profile!), null, null);
        var coordinator = Coordinator((CoderAnthropic, 0.9), (CoderOpenAI, 0.7));
        var router = new ProductionRouter(coordinator, backends.Providers, new CompositeReward(options.Reward), ledger, new SeededRandomSource(3),
            new RequestRateLimit(1000, TimeProvider.System), learnOnline: false, backends.Health, aware ? new ProviderAwareOptions() : null);
        var outcomes = new List<RouteOutcome>();
        for (var i = 0; i < requests; i++)
            outcomes.Add(await router.RouteAsync("Write a cache", TaskType.Coding, CancellationToken.None));
        return (router.Health(), outcomes, ledger.Calls.ToList());
    }

    internal static string ProfilePath()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "experiments", "profiles", "rate-limited.json")))
            dir = dir.Parent;
        return Path.Combine(dir!.FullName, "experiments", "profiles", "rate-limited.json");
    }

    [Fact]
    public async Task Thirty_requests_at_once_fill_anthropics_twenty_and_the_rest_go_to_openai_without_a_single_429()
    {
        var (health, outcomes, calls) = await RouteCoding(aware: true, 30);

        Assert.Equal(Enumerable.Repeat("coder/anthropic", 20).Concat(Enumerable.Repeat("coder/openai", 10)), outcomes.Select(o => o.Action!.Value.Label));
        Assert.All(outcomes.Skip(20), o => Assert.Equal("instead of coder/anthropic: anthropic has no headroom left", o.Avoided));
        Assert.Equal(10, health.AvoidedChoices);
        var anthropic = health.Providers!.Single(p => p.Provider == Provider.Anthropic);
        Assert.Equal((20L, 0L, 0.0), (anthropic.Responses, anthropic.RateLimitedResponses, anthropic.Headroom!.Value));
        Assert.Equal(0L, health.Providers!.Single(p => p.Provider == Provider.OpenAI).RateLimitedResponses);
        Assert.All(calls, c => Assert.True(c.LatencySeconds < 60, $"{c.LatencySeconds}"));
    }

    [Fact]
    public async Task Learning_online_with_weights_learns_their_scalarisation_of_each_answer()
    {
        var options = new QlearnOptions().Resolve();
        var ledger = new CallLedger();
        using var backends = ChatBackends.Build(options, _ => null, TimeProvider.System, null, PriceTable.Default, ledger, _ => { }, null, SimulationProfile.Default, null, null);
        var coordinator = Coordinator((CoderAnthropic, 0.9), (CoderOpenAI, 0.7));
        var weights = RewardWeights.Parse("quality=1,latency=0.1");
        var router = new ProductionRouter(coordinator, backends.Providers, new CompositeReward(options.Reward), ledger, new SeededRandomSource(3),
            new RequestRateLimit(1000, TimeProvider.System), learnOnline: true, backends.Health, new ProviderAwareOptions(), weights);

        var outcome = await router.RouteAsync("Write a cache", TaskType.Coding, CancellationToken.None);

        var agent = ledger.Calls.First();
        Assert.Equal(outcome.Verdict!.Quality - 0.1 * agent.LatencySeconds, outcome.Reward);
        Assert.Equal(0.0, outcome.Penalty);
        // Q = 0.9 + 0.15 x (reward + 0.95 x max Q(next) - 0.9): max Q(next) is 0.9 when the next type drawn is coding, else 0.
        var r = outcome.Reward!.Value;
        Assert.Contains(((TabularQLearner)coordinator.RoutingLearner)[coordinator.StateIndex("coding"), CoderAnthropic],
            new[] { 0.9 + 0.15 * (r + 0.95 * 0.9 - 0.9), 0.9 + 0.15 * (r + 0.95 * 0 - 0.9) });
    }

    [Fact]
    public async Task The_greedy_choice_alone_sends_them_all_to_anthropic_and_earns_429s()
    {
        var (health, outcomes, calls) = await RouteCoding(aware: false, 30);

        Assert.All(outcomes, o => Assert.Equal("coder/anthropic", o.Action!.Value.Label));
        Assert.All(outcomes, o => Assert.Equal(RouteStatus.Answered, o.Status));
        var anthropic = health.Providers!.Single(p => p.Provider == Provider.Anthropic);
        // The 21st is refused with Retry-After 60 s; once it has waited, the minute is empty again and the nine after it pass.
        Assert.Equal(1L, anthropic.RateLimitedResponses);
        Assert.Equal(29, calls.Count(c => c.LatencySeconds < 60));
        // The wait is part of what the caller saw: the 21st call's latency is the minute plus its answer's own time.
        Assert.InRange(calls[20].LatencySeconds - 60, 0.0, 30.0);
        Assert.Equal(0, health.AvoidedChoices);
    }
}

public class RefilledHeadroomTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_reading_refills_evenly_toward_its_reset_while_the_reported_headroom_stays()
    {
        var clock = new VirtualClock(Start);
        var health = new ProviderHealth(Provider.Anthropic, clock);
        health.Observe(new RateLimitReading(new RateLimitWindow(20, 0, Start.AddSeconds(60)), new RateLimitWindow(30000, 15000, Start.AddSeconds(60)), null), false, 3.0, Start);

        Assert.Equal((0.0, 0.0, 0.0), (health.Snapshot().Headroom!.Value, health.Snapshot().RefilledHeadroom!.Value, health.Snapshot().RefilledRequests!.Value));
        clock.Advance(TimeSpan.FromSeconds(30));
        var half = health.Snapshot();
        Assert.Equal(0.0, half.Headroom);
        Assert.Equal(0.5, half.RefilledHeadroom);
        Assert.Equal(10.0, half.RefilledRequests);
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal((1.0, 1.0), (health.Snapshot().Headroom!.Value, health.Snapshot().RefilledHeadroom!.Value));
    }

    [Fact]
    public async Task Served_at_thirty_tasks_a_minute_the_aware_policy_earns_fewer_429s_than_the_greedy_one_for_little_quality()
    {
        var options = new RateLimitBenchmarkOptions { Profile = ProviderAwareRoutingTests.ProfilePath(), Tasks = 300 };
        var greedy = await RateLimitBenchmark.ServeAsync(options, 1, aware: false, CancellationToken.None);
        var aware = await RateLimitBenchmark.ServeAsync(options, 1, aware: true, CancellationToken.None);

        Assert.Equal((300, 0), (greedy.Tasks, greedy.Avoided));
        Assert.Equal(300, greedy.Attempts - greedy.RateLimited);
        Assert.Equal(300, aware.Attempts - aware.RateLimited);
        Assert.True(aware.RateLimitedShare < greedy.RateLimitedShare / 5, $"{aware.RateLimitedShare} against {greedy.RateLimitedShare}");
        // Recorded for seed 1: 49 refusals against 5, 63 learned choices passed over, 1.6% of the quality given up.
        Assert.Equal((49L, 5L, 63), (greedy.RateLimited, aware.RateLimited, aware.Avoided));
        Assert.Equal(0.8930333333333348, greedy.MeanQuality, 12);
        Assert.Equal(0.8790333333333327, aware.MeanQuality, 12);
    }
}
