using Microsoft.Extensions.AI;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Providers;

namespace RLWorkbench.Routing.Workflow;

/// <summary>
/// Builds one chat pipeline per provider (<see cref="ChatPipeline"/>) for the chosen backend:
/// [budget] -> accounting -> [recording] -> simulated | replay | (error translation -> SDK -> resilient HTTP handler).
/// </summary>
public sealed class ChatBackends : IDisposable
{
    private readonly List<IDisposable> owned;

    private ChatBackends(ChatProviders providers, ProviderHealthBoard health, VirtualClock? simulatedClock, List<IDisposable> owned)
    {
        Providers = providers;
        Health = health;
        SimulatedClock = simulatedClock;
        this.owned = owned;
    }

    public ChatProviders Providers { get; }

    /// <summary>Each provider's rate-limit headroom and smoothed latency, updated by its pipeline (unknown until it answers).</summary>
    public ProviderHealthBoard Health { get; }

    /// <summary>
    /// The simulated providers' clock when the profile has a "rateLimits" section (null otherwise): their minute windows and
    /// Retry-After waits run on it; a workflow that models task arrivals advances it between tasks.
    /// </summary>
    public VirtualClock? SimulatedClock { get; }

    public static ChatBackends Build(
        QlearnOptions options,
        Func<string, string?> environment,
        TimeProvider time,
        IRandomSource? jitter,
        PriceTable prices,
        CallLedger ledger,
        Action<string> notice,
        CassetteWriter? recorder,
        SimulationProfile? profile,
        ProviderCredentials? credentials,
        IReadOnlyList<CassetteEntry>? cassette,
        Func<TimeSpan, CancellationToken, Task>? simulatedCallWait = null,
        BudgetGuard? budget = null)
    {
        var settings = options.ProviderSettings();
        var owned = new List<IDisposable>();
        var clients = new Dictionary<Provider, IChatClient>();
        var limits = options.Backend == QlearnOptions.Backends.Simulated && options.Profile is not null
            ? SimulatedRateLimits.LoadProfile(options.Profile)
            : SimulatedRateLimits.Unlimited;
        var simulatedClock = limits.IsUnlimited ? null : new VirtualClock(VirtualClock.FixedStart);
        var health = new ProviderHealthBoard(simulatedClock ?? time);
        var called = options.ProvidersCalled();
        foreach (var p in RoutingNames.Providers)
        {
            // A real provider the run never calls gets no client, so it needs no key.
            if (options.Backend == QlearnOptions.Backends.Real && !called.Contains(p))
                continue;
            IChatClient client;
            switch (options.Backend)
            {
                case QlearnOptions.Backends.Simulated:
                    client = new SimulatedChatClient(p, profile ?? SimulationProfile.Default, options.Seed, TimeSpan.FromSeconds(options.SimulatedCallSeconds), simulatedCallWait);
                    if (limits.For(p) is { } limit)
                        client = new SimulatedRateLimitChatClient(client, p, limit, health.For(p), simulatedClock!, options.Seed, options.Resilience, notice);
                    break;
                case QlearnOptions.Backends.Replay:
                    client = new CassetteReplayChatClient(p, settings[p].Model, cassette ?? Cassette.Read(options.Replay!), options.Replay!);
                    break;
                default:
                    var keys = credentials ?? ProviderCredentials.FromEnvironment(called, environment);
                    client = ChatPipeline.RealSource(p, settings[p], keys, options.Resilience, time, jitter ?? new SeededRandomSource(options.Seed ^ 0x5EED), notice, owned, health.For(p));
                    break;
            }
            var pipeline = ChatPipeline.Around(client, p, settings[p].Model, prices, ledger, recorder, time);
            clients[p] = budget is null ? pipeline : new BudgetedChatClient(pipeline, budget);
        }
        return new ChatBackends(new ChatProviders(clients, settings, RoutingNames.ParseProvider(options.JudgeProvider)), health, simulatedClock, owned);
    }

    public void Dispose()
    {
        foreach (var d in owned)
            d.Dispose();
    }
}
