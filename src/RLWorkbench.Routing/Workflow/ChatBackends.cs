using Microsoft.Extensions.AI;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Workflow;

/// <summary>
/// Builds one chat pipeline per provider (<see cref="ChatPipeline"/>) for the chosen backend:
/// [budget] -> accounting -> [recording] -> simulated | replay | (error translation -> SDK -> resilient HTTP handler).
/// </summary>
public sealed class ChatBackends : IDisposable
{
    private readonly List<IDisposable> owned;

    private ChatBackends(ChatProviders providers, List<IDisposable> owned)
    {
        Providers = providers;
        this.owned = owned;
    }

    public ChatProviders Providers { get; }

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
        foreach (var p in RoutingNames.Providers)
        {
            IChatClient client;
            switch (options.Backend)
            {
                case QlearnOptions.Backends.Simulated:
                    client = new SimulatedChatClient(p, profile ?? SimulationProfile.Default, options.Seed, TimeSpan.FromSeconds(options.SimulatedCallSeconds), simulatedCallWait);
                    break;
                case QlearnOptions.Backends.Replay:
                    client = new CassetteReplayChatClient(p, settings[p].Model, cassette ?? Cassette.Read(options.Replay!), options.Replay!);
                    break;
                default:
                    var keys = credentials ?? ProviderCredentials.FromEnvironment(RoutingNames.Providers, environment);
                    client = ChatPipeline.RealSource(p, settings[p], keys, options.Resilience, time, jitter ?? new SeededRandomSource(options.Seed ^ 0x5EED), notice, owned);
                    break;
            }
            var pipeline = ChatPipeline.Around(client, p, settings[p].Model, prices, ledger, recorder, time);
            clients[p] = budget is null ? pipeline : new BudgetedChatClient(pipeline, budget);
        }
        return new ChatBackends(new ChatProviders(clients, settings, RoutingNames.ParseProvider(options.JudgeProvider)), owned);
    }

    public void Dispose()
    {
        foreach (var d in owned)
            d.Dispose();
    }
}
