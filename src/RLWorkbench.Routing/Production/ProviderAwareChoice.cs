using System.Globalization;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Providers;

namespace RLWorkbench.Routing.Production;

/// <summary>
/// What live provider state costs a routing choice, in units of the learned value. The defaults give up little quality:
/// a provider is only passed over for a close alternative until it is nearly out of room, and never sent a request it
/// would refuse.
/// </summary>
public sealed record ProviderAwareOptions
{
    /// <summary>Learned value given up per unit of the provider's rate-limit window already used (1 - headroom).</summary>
    public double HeadroomCost { get; init; } = 0.05;

    /// <summary>
    /// Learned value given up per second of smoothed latency beyond the buckets' slowSeconds (5 s), where the seed's latency
    /// term saturates: the learned values cannot tell a provider at 6 s from one at 30 s, so this does.
    /// </summary>
    public double LatencyCost { get; init; } = 0.02;

    public HealthBucketOptions Buckets { get; init; } = new();

    public void Validate()
    {
        if (!(double.IsFinite(HeadroomCost) && HeadroomCost >= 0 && double.IsFinite(LatencyCost) && LatencyCost >= 0))
            throw new RoutingInputException(string.Create(CultureInfo.InvariantCulture,
                $"headroomCost ({HeadroomCost}) and latencyCost ({LatencyCost}) must be finite numbers of at least 0."));
        Buckets.Validate();
    }
}

/// <summary>One routing choice with the live provider state: the action and, when it is not the learned greedy one, why.</summary>
public readonly record struct ProviderAwareDecision(int Action, string? Reason);

/// <summary>
/// The rule production routing follows with live provider state (headroom from rate-limit headers, smoothed latency):
/// <list type="number">
/// <item>An action is unavailable while one of its providers is exhausted: fewer requests left in its window than the action
/// sends there (one per step of a chain on that provider), no tokens left, or a 429's Retry-After has not passed. Sending it there would only earn a 429. What is left is the last reading
/// refilled evenly toward the window's reset (<see cref="ProviderHealthSnapshot.RefilledHeadroom"/>).</item>
/// <item>Every other action scores its learned value minus, per call of its chain (a chain's steps on one provider each pay),
/// headroomCost x (1 - headroom) and latencyCost x the seconds its smoothed latency is beyond slowSeconds. Unknown readings
/// cost nothing.</item>
/// <item>The best score wins (first on ties). With no available action the learned greedy one is kept (its call then waits
/// the provider's Retry-After as any call does).</item>
/// </list>
/// With no readings at all (the unlimited simulated backend, or before any answer) this is exactly the greedy choice.
/// </summary>
public static class ProviderAwareChoice
{
    public static ProviderAwareDecision Choose(QLearningCoordinator coordinator, int state, IReadOnlyList<ProviderHealthSnapshot> health, ProviderAwareOptions options)
    {
        var greedy = coordinator.RoutingLearner.Greedy(state);
        var buckets = new HealthBuckets(options.Buckets);
        var byProvider = health.ToDictionary(h => h.Provider);
        if (health.All(h => h.Headroom is null && !h.IsRateLimited && h.LatencySeconds is null))
            return new ProviderAwareDecision(greedy, null);

        // Readings are refilled evenly toward their reset (ProviderHealthSnapshot.RefilledHeadroom): a provider that was full a
        // moment ago is taken back as its window drains, not a minute later.
        bool Exhausted(Provider p, int calls) =>
            byProvider.TryGetValue(p, out var h) && (h.IsRateLimited || h.RefilledRequests < calls || buckets.Headroom(h.RefilledHeadroom, false) == HeadroomLevel.Exhausted);
        double Cost(Provider p)
        {
            if (!byProvider.TryGetValue(p, out var h))
                return 0;
            var cost = h.RefilledHeadroom is { } room ? options.HeadroomCost * (1 - room) : 0;
            if (h.LatencySeconds is { } seconds && seconds > options.Buckets.SlowSeconds)
                cost += options.LatencyCost * (seconds - options.Buckets.SlowSeconds);
            return cost;
        }
        // A chain sends one call per step, so a provider it calls k times needs k requests left in its window (fewer and a
        // later step earns the 429 the rule exists to avoid), and it pays the provider's cost once per call: each call draws
        // on that window and waits that latency, as k single-agent requests would. The sum, not the worst, so a chain that
        // leans on two providers near their limits gives up more than one leaning on one; for a single step both are the
        // seed's rule exactly.
        static (Provider Provider, int Calls)[] CallsPerProvider(RoutingChain chain) =>
            chain.Steps.GroupBy(s => s.Provider).Select(g => (g.Key, g.Count())).ToArray();
        bool Blocked((Provider Provider, int Calls)[] calls) => calls.Any(c => Exhausted(c.Provider, c.Calls));

        var best = -1;
        var bestScore = double.NegativeInfinity;
        for (var a = 0; a < coordinator.Chains.Count; a++)
        {
            var calls = CallsPerProvider(coordinator.Chains[a]);
            if (Blocked(calls))
                continue;
            var score = coordinator.RoutingLearner.Value(state, a) - calls.Sum(c => c.Calls * Cost(c.Provider));
            if (score > bestScore)
                (best, bestScore) = (a, score);
        }
        if (best < 0)
            return new ProviderAwareDecision(greedy, null);
        if (best == greedy)
            return new ProviderAwareDecision(greedy, null);
        var passedOver = CallsPerProvider(coordinator.Chains[greedy]);
        var why = Blocked(passedOver)
            ? $"{string.Join(", ", passedOver.Where(c => Exhausted(c.Provider, c.Calls)).Select(c => c.Provider.Name()))} has no headroom left"
            : $"{string.Join(", ", passedOver.Select(c => c.Provider.Name()))} is near its limit or slow";
        return new ProviderAwareDecision(best, $"instead of {coordinator.Chains[greedy].Label}: {why}");
    }
}
