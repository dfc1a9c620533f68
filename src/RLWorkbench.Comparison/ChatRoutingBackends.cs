using Microsoft.Extensions.AI;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Comparison;

/// <summary>Shares one pipeline between environments: an environment's backend disposing it must not close the shared client.</summary>
internal sealed class SharedChatClient(IChatClient inner) : IChatClient
{
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        inner.GetResponseAsync(messages, options, cancellationToken);

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        inner.GetStreamingResponseAsync(messages, options, cancellationToken);

    public object? GetService(Type serviceType, object? serviceKey = null) => inner.GetService(serviceType, serviceKey);

    public void Dispose()
    {
    }
}

/// <summary>Creates the real client at the first call, so building an environment's backend touches no provider.</summary>
internal sealed class LazyChatClient(Func<IChatClient> create) : IChatClient
{
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        create().GetResponseAsync(messages, options, cancellationToken);

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        create().GetStreamingResponseAsync(messages, options, cancellationToken);

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}

/// <summary>One environment's clients (what <see cref="RoutingBackendFactory"/> returns).</summary>
internal sealed class ChatRoutingBackend(IReadOnlyDictionary<Provider, IChatClient> clients) : IRoutingBackend
{
    public IChatClient Client(Provider provider) => clients[provider];

    public void Dispose()
    {
        foreach (var c in clients.Values)
            c.Dispose();
    }
}

/// <summary>
/// The comparison's chat backends beyond the plain simulated one: simulated with a recorder, a cassette replay, or the real
/// providers. Each pipeline is the routing module's, outermost first: [budget] -> usage accounting -> [recording] -> source.
/// Replay and real pipelines are shared by every environment of every learner: the runner routes one task at a time in a
/// fixed order (learner by learner, seed by seed), so the calls, and a replay's answers, come in a fixed order too.
/// </summary>
public sealed class ComparisonBackends : IDisposable
{
    private readonly List<IDisposable> owned = [];
    private readonly Func<Provider, long, IChatClient> source;
    private readonly RoutingProblem problem;
    private readonly CallLedger ledger;
    private readonly CassetteWriter? recorder;
    private readonly BudgetGuard? budget;

    private ComparisonBackends(RoutingProblem problem, CallLedger ledger, CassetteWriter? recorder, BudgetGuard? budget, Func<ComparisonBackends, Func<Provider, long, IChatClient>> source)
    {
        this.problem = problem;
        this.ledger = ledger;
        this.recorder = recorder;
        this.budget = budget;
        this.source = source(this);
    }

    public RoutingBackendFactory Factory => (_, seed) =>
    {
        var clients = new Dictionary<Provider, IChatClient>();
        foreach (var p in RoutingNames.Providers)
        {
            var model = problem.Providers[p].Model;
            var client = ChatPipeline.Around(source(p, seed), p, model, problem.Prices, ledger, recorder, TimeProvider.System);
            if (budget is not null)
                client = new BudgetedChatClient(client, budget, WorstCase);
            clients[p] = client;
        }
        return new ChatRoutingBackend(clients);
    };

    /// <summary>
    /// The worst case of the routed task a call starts (its chain's steps and the judge, the executor's estimate as qlearn's):
    /// the environment routes one task at a time, so the budget stage reserves it at the task's first call.
    /// </summary>
    private (string Label, RoutedChainCost WorstCase) WorstCase(CallContext context)
    {
        var task = problem.Bank.Tasks.First(t => t.Id == context.TaskId);
        var chain = context.Chain ?? RoutingChain.Single(new RoutingAction(context.Role, context.Provider));
        return (chain.Label, RoutedTaskExecutor.WorstCase(task, chain, p => problem.Providers[p], problem.Providers[problem.Judge], problem.Prices, JudgePrompt.DefaultOutputChars));
    }

    /// <summary>The simulated providers, as <see cref="SimulatedRoutingBackend"/>, with every exchange recorded.</summary>
    public static ComparisonBackends Simulated(RoutingProblem problem, CallLedger ledger, CassetteWriter? recorder) =>
        new(problem, ledger, recorder, null, _ => (p, seed) => new SimulatedChatClient(p, problem.Profile, seed, TimeSpan.Zero));

    /// <summary>Every answer from a cassette: no network, no keys, no spend.</summary>
    public static ComparisonBackends Replay(RoutingProblem problem, CallLedger ledger, IReadOnlyList<CassetteEntry> cassette, string path)
    {
        var shared = RoutingNames.Providers.ToDictionary(p => p, p => (IChatClient)new CassetteReplayChatClient(p, problem.Providers[p].Model, cassette, path));
        return new(problem, ledger, null, null, _ => (p, _) => new SharedChatClient(shared[p]));
    }

    /// <summary>The real providers through the routing module's SDK clients and resilient HTTP handler, under a hard USD cap.</summary>
    public static ComparisonBackends Real(
        RoutingProblem problem, CallLedger ledger, CassetteWriter? recorder, ProviderCredentials credentials, BudgetGuard guard,
        ResilienceOptions resilience, TimeProvider time, IRandomSource jitter, Action<string> notice)
    {
        return new(problem, ledger, recorder, guard, self =>
        {
            // Built on first use: a problem that never calls a provider needs no key for it.
            var shared = new Dictionary<Provider, IChatClient>();
            IChatClient For(Provider p)
            {
                if (!shared.TryGetValue(p, out var client))
                {
                    client = ChatPipeline.RealSource(p, problem.Providers[p], credentials, resilience, time, jitter, notice, self.owned);
                    self.owned.Add(client);
                    shared[p] = client;
                }
                return client;
            }
            return (p, _) => new SharedChatClient(new LazyChatClient(() => For(p)));
        });
    }

    public void Dispose()
    {
        foreach (var d in owned)
            d.Dispose();
    }
}
