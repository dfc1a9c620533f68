using Microsoft.Extensions.AI;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Providers;

namespace RLWorkbench.Comparison;

/// <summary>
/// Where the routing environment's agent and judge calls go: one chat pipeline per provider, each ending in the routing
/// module's usage accounting so every call has tokens, latency and a cost at the configured prices.
/// </summary>
public interface IRoutingBackend : IDisposable
{
    IChatClient Client(Provider provider);

    /// <summary>Each provider's health as its answers report it, when the backend keeps it (the problem's provider state); null otherwise.</summary>
    ProviderHealthBoard? Health => null;

    /// <summary>The clock the providers' rate limits run on, when they are enforced; tasks arrive on it.</summary>
    VirtualClock? Clock => null;
}

/// <summary>Builds an environment's backend from its seed, so every environment of every learner draws its own reproducible stream.</summary>
public delegate IRoutingBackend RoutingBackendFactory(RoutingProblem problem, long seed);

/// <summary>The simulated providers of the routing module, answering from the problem's profile; costs nothing and needs no network.</summary>
public sealed class SimulatedRoutingBackend : IRoutingBackend
{
    private readonly Dictionary<Provider, IChatClient> clients = [];

    public SimulatedRoutingBackend(RoutingProblem problem, long seed)
    {
        if (problem.ProviderState is not null)
        {
            Clock = new VirtualClock(VirtualClock.FixedStart);
            Health = new ProviderHealthBoard(Clock);
        }
        foreach (var provider in RoutingNames.Providers)
        {
            IChatClient simulated = new SimulatedChatClient(provider, problem.Profile, seed, TimeSpan.Zero);
            if (problem.ProviderState?.Limits.For(provider) is { } limits)
            {
                simulated = new SimulatedRateLimitChatClient(simulated, provider, limits, Health!.For(provider), Clock!, seed,
                    new ResilienceOptions { MaxRetries = problem.ProviderState.Retries });
            }
            clients[provider] = ChatPipeline.Around(simulated, provider, problem.Providers[provider].Model, problem.Prices, new CallLedger(), null, TimeProvider.System);
        }
    }

    public ProviderHealthBoard? Health { get; }

    public VirtualClock? Clock { get; }

    public static RoutingBackendFactory Factory { get; } = (problem, seed) => new SimulatedRoutingBackend(problem, seed);

    public IChatClient Client(Provider provider) => clients[provider];

    public void Dispose()
    {
        foreach (var c in clients.Values)
            c.Dispose();
    }
}
