using RLWorkbench.Routing.Core;

namespace RLWorkbench.Comparison.Pareto;

/// <summary>A fixed-rule routing strategy and what it achieves.</summary>
public sealed record BaselinePoint(string Name, string Description, PolicyObjectives Objectives);

/// <summary>
/// The fixed rules production gateways route by, as policies on the simulated problem. A gateway is asked for a role (the
/// request names it), so every rule but "best quality" sends a task to its type's agent (analysis to the analyst, coding to
/// the coder, research to the researcher, validation to the validator) and chooses only the provider:
/// <list type="bullet">
/// <item>cheapest provider: the provider whose call is cheapest for the task (price table times expected tokens), LiteLLM's lowest-cost routing;</item>
/// <item>lowest latency: the provider with the lowest mean latency, LiteLLM's latency-based routing once it has measured both;</item>
/// <item>least busy: the provider with the fewest requests in flight; one task at a time leaves both at zero, so it alternates
/// between them (LiteLLM breaks the tie at random): half of each agent's tasks on each provider;</item>
/// <item>RouteLLM threshold: the strong model (the provider whose model has the dearer output tokens) when the task's predicted
/// difficulty is at least a threshold, else the weak one. RouteLLM predicts difficulty with a classifier trained on preference
/// data; here the task's own stated complexity (0..1, in the bank) is the prediction. Every threshold that changes the split is
/// a point: from all strong to all weak;</item>
/// <item>best quality regardless of cost: the (agent, provider) with the highest expected quality for the type, from the
/// profile; the quality ceiling a quality-only router aims at.</item>
/// </list>
/// </summary>
public static class FixedRules
{
    public static IReadOnlyList<BaselinePoint> All(ObjectiveModel objectives, ExactRewardModel model)
    {
        var problem = objectives.Problem;
        int? ActionOf(AgentRole agent, Provider provider)
        {
            for (var a = 0; a < problem.ActionCount; a++)
            {
                if (problem.Actions[a].Agent == agent && problem.Actions[a].Provider == provider)
                    return a;
            }
            return null;
        }
        int[] Offered(RoutingTask task) =>
            RoutingNames.Providers.Select(p => ActionOf(AgentOf(task.Type), p)).OfType<int>().ToArray();
        var points = new List<BaselinePoint>();
        if (problem.Bank.Tasks.Any(t => Offered(t).Length == 0))
            return points;

        var taskIndex = problem.Bank.Tasks.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i);
        points.Add(new("cheapest", "cheapest provider", objectives.Of(TaskPolicy.PerTask(problem,
            t => Offered(t).MinBy(a => model.ExpectedCostUsdForTask(taskIndex[t], a))))));
        points.Add(new("lowest-latency", "lowest latency (LiteLLM)", objectives.Of(TaskPolicy.PerTask(problem,
            t => Offered(t).MinBy(a => model.LatencyOf(a).Mean)))));
        points.Add(new("least-busy", "least busy (LiteLLM)", objectives.Of(new TaskPolicy(problem.Bank.Tasks.Select(t =>
        {
            var row = new double[problem.ActionCount];
            var offered = Offered(t);
            foreach (var a in offered)
                row[a] = 1.0 / offered.Length;
            return row;
        }).ToArray()))));
        points.Add(new("best-quality", "best quality, any cost", objectives.Of(TaskPolicy.FromTypeTable(problem,
            Enumerable.Range(0, RoutingProblem.TypeCount).Select(type => model.Occurs(type)
                ? Enumerable.Range(0, problem.ActionCount).MaxBy(a => model.ExpectedQuality(type, a))
                : 0).ToArray()))));

        // Strong and weak by the price of an output token: what a team setting up RouteLLM would call the strong model.
        var byPrice = RoutingNames.Providers.OrderBy(p => problem.Prices.Cost(problem.Providers[p].Model, 0, 1_000_000)).ToArray();
        var (weak, strong) = (byPrice[0], byPrice[^1]);
        if (weak == strong)
            return points;
        var complexities = problem.Bank.Tasks.Select(t => t.Complexity).Distinct().Order().ToList();
        complexities.Add(double.PositiveInfinity);
        foreach (var threshold in complexities)
        {
            var label = double.IsPositiveInfinity(threshold) ? "all weak" : FormattableString.Invariant($"strong at complexity >= {threshold:0.##}");
            var policy = TaskPolicy.PerTask(problem, t =>
                ActionOf(AgentOf(t.Type), t.Complexity >= threshold ? strong : weak) ?? Offered(t)[0]);
            points.Add(new(FormattableString.Invariant($"routellm-{(double.IsPositiveInfinity(threshold) ? "inf" : threshold.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture))}"),
                $"RouteLLM threshold ({label})", objectives.Of(policy)));
        }
        return points;
    }

    /// <summary>The role whose own task type this is.</summary>
    public static AgentRole AgentOf(TaskType type) => type switch
    {
        TaskType.Analysis => AgentRole.Analyst,
        TaskType.Coding => AgentRole.Coder,
        TaskType.Research => AgentRole.Researcher,
        TaskType.Validation => AgentRole.Validator,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}
