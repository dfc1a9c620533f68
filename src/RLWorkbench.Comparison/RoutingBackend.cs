using Microsoft.Extensions.AI;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Comparison;

/// <summary>
/// Where the routing environment's agent and judge calls go: one chat pipeline per provider, each ending in the routing
/// module's usage accounting so every call has tokens, latency and a cost at the configured prices.
/// </summary>
public interface IRoutingBackend : IDisposable
{
    IChatClient Client(Provider provider);
}

/// <summary>Builds an environment's backend from its seed, so every environment of every learner draws its own reproducible stream.</summary>
public delegate IRoutingBackend RoutingBackendFactory(RoutingProblem problem, long seed);

/// <summary>The simulated providers of the routing module, answering from the problem's profile; costs nothing and needs no network.</summary>
public sealed class SimulatedRoutingBackend : IRoutingBackend
{
    private readonly Dictionary<Provider, IChatClient> clients = [];

    public SimulatedRoutingBackend(RoutingProblem problem, long seed)
    {
        foreach (var provider in RoutingNames.Providers)
        {
            var simulated = new SimulatedChatClient(provider, problem.Profile, seed, TimeSpan.Zero);
            clients[provider] = ChatPipeline.Around(simulated, provider, problem.Providers[provider].Model, problem.Prices, new CallLedger(), null, TimeProvider.System);
        }
    }

    public static RoutingBackendFactory Factory { get; } = (problem, seed) => new SimulatedRoutingBackend(problem, seed);

    public IChatClient Client(Provider provider) => clients[provider];

    public void Dispose()
    {
        foreach (var c in clients.Values)
            c.Dispose();
    }
}
