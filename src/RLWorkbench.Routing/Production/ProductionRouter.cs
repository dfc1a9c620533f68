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

/// <summary>
/// One request's outcome; <paramref name="Avoided"/> says which learned choice the live provider state passed over, and why.
/// A request routed through a chain of more than one step also has its <paramref name="Chain"/> (<paramref name="Action"/> is
/// its first step) and the summed cost and latency of its steps' calls (the judge's aside), or on a failure part-way of every call it made.
/// </summary>
public sealed record RouteOutcome(RouteStatus Status, RoutingAction? Action, string State, string? Output, JudgeVerdict? Verdict, double? Reward, double? Penalty, string? Error,
    string? Avoided = null, RoutingChain? Chain = null, double? ChainCostUsd = null, double? ChainLatencySeconds = null);

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
            if (decision.Chain.Length > 1)
                return await RouteChainAsync(task, decision, avoidedNote, cancellationToken);
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

    /// <summary>
    /// A request routed through a chain of several steps: every step is a call (each gets the task and the previous answer),
    /// the answer is the last step's, and with --learn the judge scores it and the learner learns the reward on the summed
    /// cost and latency, as qlearn does. Every step's agent counts toward the load. A provider that fails part-way is handled
    /// as qlearn handles it (Coordinators.Failed): the calls already made stay in the call log and the cost, the request
    /// counts as failed with the message naming the step that failed, and with --learn the chain is learned as a reward of 0
    /// (what the user got), so a chain that keeps failing loses its place. Any other failure (a cassette that ran out, say)
    /// ends the command as it does for a single agent.
    /// </summary>
    private async Task<RouteOutcome> RouteChainAsync(RoutingTask task, RoutingDecision decision, string? avoidedNote, CancellationToken cancellationToken)
    {
        var chain = decision.Chain;
        try
        {
            if (!learnOnline)
            {
                var steps = await executor.StepsAsync(requests - 1, task, chain, null, cancellationToken);
                foreach (var step in chain.Steps)
                    coordinator.Load.Record(step.Agent);
                answered++;
                return new RouteOutcome(RouteStatus.Answered, chain.First, decision.State, steps[^1].Output, null, null, null, null, avoidedNote, chain,
                    steps.Sum(s => s.Record.CostUsd), steps.Sum(s => s.Record.LatencySeconds));
            }
            var routed = await executor.ExecuteChainAsync(requests - 1, task, chain, null, cancellationToken);
            if (routed.Verdict.ParseFailure)
                parseFailures++;
            var update = coordinator.Complete(decision, routed.RawReward, routed.Vector, RoutingNames.TaskTypes[random.Choice(RoutingNames.TaskTypes.Count)], weights);
            rewards.Add(update.AdjustedReward);
            answered++;
            return new RouteOutcome(RouteStatus.Answered, chain.First, decision.State, routed.Output, routed.Verdict, update.RawReward, update.Penalty, null, avoidedNote, chain,
                routed.AgentCostUsd, routed.AgentLatencySeconds);
        }
        catch (ChainInterruptedException e) when (e.InnerException is ProviderCallException)
        {
            failed++;
            if (learnOnline)
                coordinator.Failed(decision);
            return new RouteOutcome(RouteStatus.Failed, chain.First, decision.State, null, null, null, null, e.Message, avoidedNote, chain,
                e.CompletedCostUsd, e.Completed.Sum(c => c.LatencySeconds));
        }
        catch (ChainInterruptedException e)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException!);
            throw;
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
    /// Production keeps exploring off: Q-learning's epsilon stays 0 (no decay) and every choice is greedy. A table over chains
    /// (qlearn --chains) gives the coordinator its chains, in the table's action order.
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
        var coordinator = QLearningCoordinator.Create(learner, noExploration, options.Load, random, table.Algorithm, resolved.Bandits, table.Chains, providerState,
            table.Composed ?? resolved.Composed);
        if (!table.States.SequenceEqual(coordinator.States))
            throw new RoutingInputException($"The saved Q-table's states do not match the {learner} coordinator's.");
        coordinator.Restore(new CoordinatorSnapshot(learner, 0, table.State.QTable, coordinator.Load.Snapshot(), table.Algorithm, table.State.Bandit, table.State.Composed));
        return coordinator;
    }
}
