using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Providers;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Routing.Production;

/// <summary>The rate-limit benchmark's settings (issue 14's target: under 1% 429s, at most 2% of quality lost).</summary>
public sealed record RateLimitBenchmarkOptions
{
    /// <summary>A simulation profile with a "rateLimits" section.</summary>
    public required string Profile { get; init; }

    public double ArrivalsPerMinute { get; init; } = 30;

    public int Tasks { get; init; } = 2000;

    public IReadOnlyList<long> Seeds { get; init; } = [1, 2, 3, 4, 5];

    public ProviderAwareOptions Aware { get; init; } = new();
}

/// <summary>One policy's serving over one seed: requests the providers received, how many were 429s, the quality routed to.</summary>
public sealed record RateLimitServing(
    string Policy, long Seed, int Tasks, long Attempts, long RateLimited, double MeanQuality, int Avoided, double P95LatencySeconds, double SimulatedMinutes)
{
    public double RateLimitedShare => Attempts == 0 ? 0 : RateLimited / (double)Attempts;
}

/// <summary>
/// Serves the same arriving tasks twice on the simulated, rate-limited providers: with the greedy quality-only policy (each
/// task type to the action of best expected judge quality in the profile, what a quality-only learner converges to), and
/// with the same policy under <see cref="ProviderAwareChoice"/>. Only the agent calls are served (no judge: serving does
/// not judge), so every request counted is one the routing chose. Quality is the profile's expected judge quality of the
/// action routed to, so the comparison has no judging noise; 429s are the providers' refusals over every attempt they received.
/// </summary>
public static class RateLimitBenchmark
{
    public const string Greedy = "greedy quality-only";
    public const string Aware = "provider-aware";

    public static async Task<IReadOnlyList<RateLimitServing>> RunAsync(RateLimitBenchmarkOptions options, CancellationToken cancellationToken)
    {
        options.Aware.Validate();
        if (SimulatedRateLimits.LoadProfile(options.Profile).IsUnlimited)
            throw new RoutingInputException($"The profile {options.Profile} has no \"rateLimits\" section; the benchmark needs providers with limits.");
        var results = new List<RateLimitServing>();
        foreach (var seed in options.Seeds)
        {
            results.Add(await ServeAsync(options, seed, aware: false, cancellationToken));
            results.Add(await ServeAsync(options, seed, aware: true, cancellationToken));
        }
        return results;
    }

    public static async Task<RateLimitServing> ServeAsync(RateLimitBenchmarkOptions options, long seed, bool aware, CancellationToken cancellationToken)
    {
        var qlearn = new QlearnOptions { Profile = options.Profile, Seed = seed }.Resolve();
        var profile = SimulationProfile.Load(options.Profile);
        var ledger = new CallLedger();
        using var backends = ChatBackends.Build(qlearn, _ => null, TimeProvider.System, null, PriceTable.Default, ledger, _ => { }, null, profile, null, null);
        var coordinator = QualityPolicy(profile);
        var router = new ProductionRouter(coordinator, backends.Providers, new CompositeReward(qlearn.Reward), ledger, new SeededRandomSource(seed),
            new RequestRateLimit(int.MaxValue, TimeProvider.System), learnOnline: false, backends.Health, aware ? options.Aware : null);
        var arrivals = new TaskArrivals(backends.SimulatedClock!, options.ArrivalsPerMinute, seed);
        var picks = new SeededRandomSource(unchecked(seed * 31 + 7));
        var bank = TaskBank.Default;
        var start = backends.SimulatedClock!.GetUtcNow();
        var quality = 0.0;
        for (var i = 0; i < options.Tasks; i++)
        {
            arrivals.Next(i);
            var task = bank[picks.Choice(bank.Count)];
            var outcome = await router.RouteAsync(task.Description, task.Type, cancellationToken);
            var action = outcome.Action ?? throw new InvalidOperationException($"Request {i + 1} was not routed: {outcome.Error}");
            quality += profile.Scores(action.Agent, action.Provider, task.Type).MeanQuality;
        }
        var health = router.Health();
        var latencies = ledger.Calls.Select(c => c.LatencySeconds).Order().ToArray();
        return new RateLimitServing(aware ? Aware : Greedy, seed, options.Tasks,
            health.Providers!.Sum(p => p.Responses), health.Providers!.Sum(p => p.RateLimitedResponses), quality / options.Tasks, health.AvoidedChoices,
            latencies[(int)Math.Ceiling(0.95 * latencies.Length) - 1], (backends.SimulatedClock.GetUtcNow() - start).TotalMinutes);
    }

    /// <summary>A greedy coordinator whose values are the profile's expected judge quality of each action per task type.</summary>
    public static QLearningCoordinator QualityPolicy(SimulationProfile profile)
    {
        var coordinator = new TaskTypeCoordinator(new QLearningOptions { EpsilonStart = 0, EpsilonDecay = 1, EpsilonFloor = 0 }, new LoadTrackerOptions(), new SeededRandomSource(0));
        var q = (TabularQLearner)coordinator.RoutingLearner;
        foreach (var type in RoutingNames.TaskTypes)
        {
            foreach (var action in RoutingAction.All)
                q[coordinator.StateIndex(type.Name()), action.Index] = profile.Scores(action.Agent, action.Provider, type).MeanQuality;
        }
        return coordinator;
    }
}
