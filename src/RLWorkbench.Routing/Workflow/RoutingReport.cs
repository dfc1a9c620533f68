using System.Globalization;
using System.Text;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;

namespace RLWorkbench.Routing.Workflow;

public sealed record RoutingChoice(string State, string TaskType, string LoadState, string Action, double Value, bool Visited, bool ShiftsFromBalanced, string? KnownBest);

public sealed record AgentPerformance(string Agent, int Tasks, double AverageReward, double TotalReward, double LifetimeShare);

public sealed record ActionCount(string Action, int Tasks, double AverageReward);

/// <summary>The seed's end-of-run numbers, saved as summary.json.</summary>
public sealed record RoutingSummary(
    string Learner,
    string Backend,
    long Seed,
    int Iterations,
    string StopReason,
    string? StopMessage,
    double MeanRawReward,
    double MeanAdjustedReward,
    double MeanPenalty,
    double FinalEpsilon,
    double FinalImbalance,
    IReadOnlyDictionary<string, double> FinalUtilisation,
    int JudgeParseFailures,
    CallSummary Calls,
    IReadOnlyList<RoutingChoice> Routing,
    IReadOnlyList<AgentPerformance> Agents,
    IReadOnlyList<ActionCount> Actions,
    IReadOnlyDictionary<string, double> MeanRewardByTaskType,
    IReadOnlyDictionary<string, int> LoadStateCounts,
    int? GreedyMatchesKnownBest,
    string Algorithm = RoutingAlgorithms.QLearning,
    int FailedTasks = 0);

/// <summary>Builds the end-of-run report from the iteration rows, the coordinator and the call ledger.</summary>
public sealed class RoutingReport
{
    private RoutingReport(RoutingSummary summary, string text)
    {
        Summary = summary;
        Text = text;
    }

    public RoutingSummary Summary { get; }

    public string Text { get; }

    public static RoutingReport Build(QlearnOptions options, QLearningCoordinator coordinator, IReadOnlyList<IterationRow> rows, CallSummary calls,
        SimulationProfile? profile, TaskBank bank, PriceTable prices, WorkflowOutcome outcome)
    {
        var best = profile?.ExpectedRewards(bank, prices, options.Reward, options.ProviderSettings().ToDictionary(kv => kv.Key, kv => kv.Value.Model));
        var visited = rows.Select(r => r.LoadState).ToHashSet();
        visited.Add(LoadStates.Balanced);
        var routing = new List<RoutingChoice>();
        // The profile's expected rewards are the seed's reward per single agent: no known best for chains, other weights, or health states.
        var compare = best is not null && !coordinator.RoutesChains && options.Weights is null && coordinator.ProviderState is null;
        // With the providers' health in the state there are hundreds of states; the report lists those the run visited.
        foreach (var state in coordinator.ProviderState is null ? Enumerable.Empty<string>() : rows.Select(r => r.State).Distinct().OrderBy(coordinator.StateIndex))
        {
            var s = coordinator.StateIndex(state);
            var a = coordinator.RoutingLearner.Greedy(s);
            var row = rows.First(r => r.State == state);
            routing.Add(new RoutingChoice(state, row.TaskType, row.LoadState, coordinator.Chains[a].Label, coordinator.RoutingLearner.Value(s, a), true, false, null));
        }
        foreach (var type in coordinator.ProviderState is null ? RoutingNames.TaskTypes : Enumerable.Empty<TaskType>())
        {
            var balancedAction = coordinator.RoutingLearner.Greedy(coordinator.StateIndex(coordinator.StateOf(type, LoadStates.Balanced)));
            var loadStates = coordinator is LoadBalancedCoordinator ? LoadStates.All.Where(visited.Contains) : [LoadStates.Balanced];
            foreach (var load in loadStates)
            {
                var state = coordinator.StateOf(type, load);
                var s = coordinator.StateIndex(state);
                var a = coordinator.RoutingLearner.Greedy(s);
                var knownBest = compare ? RoutingAction.FromIndex(Array.IndexOf(best![type], best[type].Max())).Label : null;
                routing.Add(new RoutingChoice(state, type.Name(), load, coordinator.Chains[a].Label, coordinator.RoutingLearner.Value(s, a),
                    rows.Any(r => r.State == state), a != balancedAction, knownBest));
            }
        }
        var lifetimeTotal = Math.Max(1, coordinator.Load.LifetimeTotal);
        var agents = RoutingNames.Agents.Select(agent =>
        {
            // A chain's row counts for every agent in it ("coder>researcher"); a single agent's row is that agent's.
            var mine = rows.Where(r => r.Agent.Split(RoutingChain.Separator).Contains(agent.Name())).ToArray();
            return new AgentPerformance(agent.Name(), mine.Length, mine.Length == 0 ? 0 : mine.Average(r => r.AdjustedReward), mine.Sum(r => r.AdjustedReward),
                coordinator.Load.LifetimeCounts[(int)agent] / (double)lifetimeTotal);
        }).ToArray();
        var actions = coordinator.Chains.Select((chain, index) =>
        {
            var mine = rows.Where(r => r.Action == index).ToArray();
            return new ActionCount(chain.Label, mine.Length, mine.Length == 0 ? 0 : mine.Average(r => r.RawReward));
        }).ToArray();
        var byType = RoutingNames.TaskTypes.Where(t => rows.Any(r => r.TaskType == t.Name()))
            .ToDictionary(t => t.Name(), t => rows.Where(r => r.TaskType == t.Name()).Average(r => r.RawReward));
        var loadCounts = rows.GroupBy(r => r.LoadState).OrderBy(g => LoadStates.IndexOf(g.Key)).ToDictionary(g => g.Key, g => g.Count());
        var balancedRows = routing.Where(r => r.LoadState == LoadStates.Balanced).ToArray();
        var summary = new RoutingSummary(
            options.Learner, options.Backend, options.Seed, rows.Count, outcome.Reason.ToString().ToLowerInvariant(), outcome.Message,
            rows.Count == 0 ? 0 : rows.Average(r => r.RawReward),
            rows.Count == 0 ? 0 : rows.Average(r => r.AdjustedReward),
            rows.Count == 0 ? 0 : rows.Average(r => r.Penalty),
            coordinator.Epsilon,
            coordinator.Load.Imbalance,
            RoutingNames.Agents.ToDictionary(a => a.Name(), coordinator.Load.Utilisation),
            rows.Count(r => r.ParseFailure && !FailedPartWay(r)),
            calls,
            routing,
            agents,
            actions,
            byType,
            loadCounts,
            compare ? balancedRows.Count(r => r.Action == r.KnownBest) : null,
            coordinator.Algorithm,
            rows.Count(FailedPartWay));
        return new RoutingReport(summary, Render(summary, coordinator is LoadBalancedCoordinator));
    }

    /// <summary>A chain that failed part-way has no valid judgement and no quality; a judge parse failure scores the 0.5 fallback.</summary>
    private static bool FailedPartWay(IterationRow row) => row.ParseFailure && row.Quality == 0;

    private static string Render(RoutingSummary s, bool loadBalanced)
    {
        var sb = new StringBuilder();
        void Line(FormattableString text) => sb.Append(text.ToString(CultureInfo.InvariantCulture)).Append('\n');
        var title = s.Algorithm switch { RoutingAlgorithms.Ucb1 => "UCB1", RoutingAlgorithms.Thompson => "Thompson sampling", RoutingAlgorithms.Composed => "Composed chain learner", _ => "Q-learning" };
        Line($"{title} routing: {s.Learner} coordinator, {s.Iterations} iterations, seed {s.Seed}, {s.Backend} backend ({s.StopReason})");
        if (s.StopMessage is not null)
            Line($"  {s.StopMessage}");
        Line($"Mean reward {s.MeanRawReward:0.000} raw, {s.MeanAdjustedReward:0.000} adjusted; mean penalty {s.MeanPenalty:0.000}");
        if (RoutingAlgorithms.IsBandit(s.Algorithm))
            Line($"Final imbalance {s.FinalImbalance:0.000} ({title} has no epsilon: it tries every action once, then follows its {(s.Algorithm == RoutingAlgorithms.Ucb1 ? "index" : "draws")})");
        else if (s.Algorithm == RoutingAlgorithms.Composed)
            Line($"Final imbalance {s.FinalImbalance:0.000} ({title} has no epsilon: it routes by its optimistic index over per-step values)");
        else
            Line($"Final epsilon {s.FinalEpsilon:0.000}, final imbalance {s.FinalImbalance:0.000}");
        var failedCalls = s.Calls.FailedCalls;
        if (failedCalls > 0)
            Line($"  {failedCalls} calls got an answer not valid for their API (recorded in calls.jsonl; a failed agent answer is judged as empty, a failed judge answer scores 0.5)");
        Line($"Calls {s.Calls.TotalCalls}, total cost ${s.Calls.TotalCostUsd:0.0000}, mean latency {s.Calls.MeanLatencySeconds:0.00} s, mean tokens per call {s.Calls.MeanTokensPerCall:0}");
        foreach (var (model, cost) in s.Calls.CostByModel)
            Line($"  {model}: ${cost:0.0000}");
        if (s.Calls.RepeatedCalls > 0)
            Line($"  {s.Calls.RepeatedCalls} of them made by iterations that were stopped part-way and run again on resume; they were sent, so they count");
        if (s.Calls.CallsWithoutUsage > 0)
            Line($"  {s.Calls.CallsWithoutUsage} calls came back without a usage report and are counted as 0 tokens");
        Line($"Judge parse failures: {s.JudgeParseFailures} of {s.Iterations} (scored 0.5 each)");
        if (s.FailedTasks > 0)
            Line($"Tasks that failed part-way through their chain: {s.FailedTasks} of {s.Iterations} (reward 0, quality 0, learned as reward 0)");
        Line($"Final utilisation: {string.Join(", ", s.FinalUtilisation.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value * 100:0}%")))}");
        sb.Append('\n');
        Line($"Learned routing (greedy choice per state{(loadBalanced ? "; * marks a shift from the balanced choice" : "")}{(s.GreedyMatchesKnownBest is null ? "" : "; known best from the profile")}):");
        var stateWidth = Math.Max(26, s.Routing.Select(r => r.State.Length).DefaultIfEmpty(0).Max());
        foreach (var r in s.Routing)
        {
            var mark = r.ShiftsFromBalanced && r.Visited ? "*" : " ";
            var seen = r.Visited ? "" : " (never visited)";
            var best = r.KnownBest is null || r.LoadState != LoadStates.Balanced ? "" : r.KnownBest == r.Action ? "  = best" : $"  best: {r.KnownBest}";
            // States with the providers' health appended are longer than the seed's 26 columns; the seed's stay as they were.
            Line($"  {mark} {r.State.PadRight(stateWidth)} {r.Action,-22} {(s.Algorithm == RoutingAlgorithms.QLearning ? "Q" : "mean")} {r.Value,7:0.000}{seen}{best}");
        }
        if (s.GreedyMatchesKnownBest is { } matches)
            Line($"  {matches} of 4 task types route to the known best action");
        sb.Append('\n');
        Line($"Agent performance:");
        Line($"  {"agent",-11} {"tasks",5} {"avg reward",10} {"total",8} {"lifetime",9}");
        foreach (var a in s.Agents)
            Line($"  {a.Agent,-11} {a.Tasks,5} {a.AverageReward,10:0.000} {a.TotalReward,8:0.000} {a.LifetimeShare * 100,8:0}%");
        // With dozens of chains on offer, only those routed to are listed.
        var routed = s.Actions.Count > RoutingAction.Count ? s.Actions.Where(a => a.Tasks > 0).ToArray() : s.Actions;
        var listed = routed.Count == s.Actions.Count ? "" : $", {routed.Count} of {s.Actions.Count} chains routed to";
        Line($"Tasks per action (fair share {s.Iterations / (double)s.Actions.Count:0.0}{listed}): {string.Join(", ", routed.Select(a => $"{a.Action} {a.Tasks}"))}");
        if (s.MeanRewardByTaskType.Count > 0)
            Line($"Mean reward by task type: {string.Join(", ", s.MeanRewardByTaskType.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value:0.000}")))}");
        if (loadBalanced)
            Line($"Load states seen: {string.Join(", ", s.LoadStateCounts.Select(kv => $"{kv.Key} {kv.Value}"))}");
        return sb.ToString();
    }
}
