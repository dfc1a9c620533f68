using Microsoft.Extensions.AI;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Providers;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Routing.Production;

/// <summary>
/// A per-minute request limit over a sliding minute. Only accepted requests are remembered, so a caller that is
/// turned away does not push its own next chance further out (the seed counted rejections too).
/// </summary>
public sealed class RequestRateLimit(int requestsPerMinute, TimeProvider time)
{
    private readonly Queue<DateTimeOffset> accepted = new();
    private readonly Lock gate = new();

    public int RequestsPerMinute { get; } = requestsPerMinute > 0 ? requestsPerMinute : throw new RoutingInputException($"The request limit must be positive, not {requestsPerMinute}.");

    public bool TryAcquire()
    {
        lock (gate)
        {
            var now = time.GetUtcNow();
            while (accepted.Count > 0 && now - accepted.Peek() >= TimeSpan.FromMinutes(1))
                accepted.Dequeue();
            if (accepted.Count >= RequestsPerMinute)
                return false;
            accepted.Enqueue(now);
            return true;
        }
    }
}

public enum RouteStatus
{
    Answered,
    RateLimited,
    Failed,
}

/// <summary>One request's outcome; <paramref name="Avoided"/> says which learned choice the live provider state passed over, and why.</summary>
public sealed record RouteOutcome(RouteStatus Status, RoutingAction? Action, string State, string? Output, JudgeVerdict? Verdict, double? Reward, double? Penalty, string? Error,
    string? Avoided = null);

/// <summary>The seed's health report: status, requests, LLM calls, total cost, mean reward, current load, utilisation, imbalance.</summary>
public sealed record RouterHealth(
    string Status,
    int Requests,
    int Answered,
    int RateLimited,
    int Failed,
    int LlmCalls,
    double TotalCostUsd,
    double? MeanReward,
    string LoadState,
    IReadOnlyDictionary<string, double> Utilisation,
    double Imbalance,
    int JudgeParseFailures,
    IReadOnlyList<ProviderHealthSnapshot>? Providers = null,
    int AvoidedChoices = 0);

/// <summary>
/// The production path: greedy routing from a learned Q-table (epsilon 0), optional online learning from live judge
/// scores, a per-minute request limit and a health report. Requests are served one at a time; the Q-table is shared state.
/// With the providers' live health (and <paramref name="aware"/>), the learned choice passes over a provider that is out of
/// headroom, near its limit or slow (<see cref="ProviderAwareChoice"/>); online learning then uses <paramref name="weights"/>
/// when given.
/// </summary>
public sealed class ProductionRouter(QLearningCoordinator coordinator, ChatProviders providers, CompositeReward reward, CallLedger ledger, IRandomSource random, RequestRateLimit limit, bool learnOnline,
    ProviderHealthBoard? health = null, ProviderAwareOptions? aware = null, RewardWeights? weights = null)
{
    private readonly SemaphoreSlim serial = new(1, 1);
    private readonly RoutedTaskExecutor executor = new(providers, reward);
    private readonly List<double> rewards = [];
    private int requests, answered, rateLimited, failed, parseFailures, avoided;

    public QLearningCoordinator Coordinator => coordinator;

    public async Task<RouteOutcome> RouteAsync(string description, TaskType type, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref requests);
        if (!limit.TryAcquire())
        {
            Interlocked.Increment(ref rateLimited);
            return new RouteOutcome(RouteStatus.RateLimited, null, "", null, null, null, null, $"more than {limit.RequestsPerMinute} requests in the last minute");
        }
        await serial.WaitAsync(cancellationToken);
        try
        {
            var task = new RoutingTask($"req{requests}", description, type, 0.5, 0.5);
            var decision = coordinator.Decide(task, epsilonOverride: 0);
            string? avoidedNote = null;
            if (health is not null && aware is not null)
            {
                var choice = ProviderAwareChoice.Choose(coordinator, decision.StateIndex, health.Snapshot(), aware);
                if (choice.Action != decision.ActionIndex)
                {
                    var chain = coordinator.Chains[choice.Action];
                    decision = decision with { ActionIndex = choice.Action, Chain = chain, Action = chain.First, Explored = false };
                    avoidedNote = choice.Reason;
                    avoided++;
                }
            }
            var action = decision.Action;
            try
            {
                if (!learnOnline)
                {
                    var agent = await executor.AgentAsync(requests - 1, task, action, null, cancellationToken);
                    coordinator.Load.Record(action.Agent);
                    answered++;
                    return new RouteOutcome(RouteStatus.Answered, action, decision.State, agent.Text, null, null, null, null, avoidedNote);
                }
                var routed = await executor.ExecuteAsync(requests - 1, task, action, cancellationToken: cancellationToken);
                var verdict = routed.Verdict;
                if (verdict.ParseFailure)
                    parseFailures++;
                var r = routed.RawReward;
                var update = coordinator.Complete(decision, r, routed.Vector, RoutingNames.TaskTypes[random.Choice(RoutingNames.TaskTypes.Count)], weights);
                rewards.Add(update.AdjustedReward);
                answered++;
                return new RouteOutcome(RouteStatus.Answered, action, decision.State, routed.Output, verdict, update.RawReward, update.Penalty, null, avoidedNote);
            }
            catch (ProviderCallException e)
            {
                failed++;
                return new RouteOutcome(RouteStatus.Failed, action, decision.State, null, null, null, null, e.Message, avoidedNote);
            }
        }
        finally
        {
            serial.Release();
        }
    }

    public RouterHealth Health()
    {
        var status = failed > 0 ? "degraded" : rateLimited > 0 ? "throttled" : "healthy";
        return new RouterHealth(status, requests, answered, rateLimited, failed, ledger.Calls.Count, ledger.TotalCostUsd,
            rewards.Count == 0 ? null : rewards.Average(), coordinator.Load.LoadState,
            RoutingNames.Agents.ToDictionary(a => a.Name(), coordinator.Load.Utilisation), coordinator.Load.Imbalance, parseFailures, health?.Snapshot(), avoided);
    }

    /// <summary>
    /// Which coordinator a saved table belongs to: the learner its file records, else the one its states imply; the table's
    /// algorithm (Q-learning, a bandit whose counts its bandit.json keeps, or the composed learner whose posterior and
    /// settings its composed.json keeps) is the one that continues learning with --learn.
    /// Production keeps exploring off: Q-learning's epsilon stays 0 (no decay) and every choice is greedy.
    /// </summary>
    public static QLearningCoordinator CoordinatorFor(LearnedTable table, QlearnOptions options, IRandomSource random, ProviderHealthBoard? health = null)
    {
        // A table learned with the providers' health in its state has every coordinator state split by each joint health label.
        var healthLabels = ProviderStateReader.Labels.Count;
        var withHealth = table.States.Count % healthLabels == 0 && table.States.Count / healthLabels is 4 or 20;
        var learner = table.Learner ?? (table.States.Count / (withHealth ? healthLabels : 1)) switch
        {
            4 => TaskTypeCoordinator.Name,
            20 => LoadBalancedCoordinator.Name,
            _ => throw new RoutingInputException($"A Q-table has 4 states (base) or 20 (load-balanced), or those times {healthLabels} with the providers' health, not {table.States.Count}."),
        };
        var providerState = withHealth
            ? new ProviderStateReader((health ?? new ProviderHealthBoard(TimeProvider.System)).Snapshot, new HealthBuckets(options.HealthBuckets))
            : null;
        var resolved = (options with { Learner = learner }).Resolve();
        var noExploration = resolved.QLearning! with { EpsilonStart = 0, EpsilonDecay = 1, EpsilonFloor = 0 };
        var coordinator = QLearningCoordinator.Create(learner, noExploration, options.Load, random, table.Algorithm, resolved.Bandits, providerState: providerState,
            composedOptions: table.Composed ?? resolved.Composed);
        if (!table.States.SequenceEqual(coordinator.States))
            throw new RoutingInputException($"The saved Q-table's states do not match the {learner} coordinator's.");
        coordinator.Restore(new CoordinatorSnapshot(learner, 0, table.State.QTable, coordinator.Load.Snapshot(), table.Algorithm, table.State.Bandit, table.State.Composed));
        return coordinator;
    }
}
