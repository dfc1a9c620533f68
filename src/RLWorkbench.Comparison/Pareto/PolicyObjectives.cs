namespace RLWorkbench.Comparison.Pareto;

/// <summary>What a routing policy achieves per routed task: mean judge quality, mean agent cost in USD, and the 95th percentile of the agent call's latency in seconds.</summary>
public readonly record struct PolicyObjectives(double Quality, double CostUsd, double P95LatencySeconds);

/// <summary>
/// A routing policy as the chance of each action for each task of the bank (rows sum to 1): a per-type table, a fixed rule
/// that reads the task (a difficulty threshold), or a rule blind to it (a cycle, whose long-run share of each action is what counts).
/// </summary>
public sealed class TaskPolicy
{
    public TaskPolicy(double[][] actionProbabilities) => ActionProbabilities = actionProbabilities;

    /// <summary>[task index in the bank][action] = the chance the policy routes that task to that action.</summary>
    public double[][] ActionProbabilities { get; }

    /// <summary>A deterministic per-type table (the greedy policy of every tabular learner on the base problem).</summary>
    public static TaskPolicy FromTypeTable(RoutingProblem problem, IReadOnlyList<int> actionPerType) =>
        new(problem.Bank.Tasks.Select(t => OneHot(problem.ActionCount, actionPerType[(int)t.Type])).ToArray());

    /// <summary>Each task to one action chosen from the task itself.</summary>
    public static TaskPolicy PerTask(RoutingProblem problem, Func<Routing.Core.RoutingTask, int> action) =>
        new(problem.Bank.Tasks.Select(t => OneHot(problem.ActionCount, action(t))).ToArray());

    /// <summary>Every task to the same mix of actions (a rule blind to the task, by its long-run shares).</summary>
    public static TaskPolicy Blind(RoutingProblem problem, double[] shares) =>
        new(problem.Bank.Tasks.Select(_ => shares).ToArray());

    private static double[] OneHot(int n, int index)
    {
        var row = new double[n];
        row[index] = 1.0;
        return row;
    }
}

/// <summary>
/// The exact objectives of a policy on the simulated base problem, from <see cref="ExactRewardModel"/>: tasks are drawn
/// uniformly from the bank; quality is exact per (type, action), cost exact per (task, action); the agent call's latency is
/// max(0.1, N(mean, sd)) of its provider, so a policy's latency law is a mixture of clipped normals and its 95th percentile
/// is found by bisection on the mixture's CDF to <see cref="LatencyTolerance"/> seconds.
/// </summary>
public sealed class ObjectiveModel
{
    /// <summary>The bisection stops when the bracket is narrower than this (seconds): far below any latency difference that matters.</summary>
    public const double LatencyTolerance = 1e-9;

    private readonly RoutingProblem problem;
    private readonly double[][] quality;
    private readonly double[][] cost;
    private readonly NormalVariable[] latency;
    private readonly int[] typeOfTask;

    public ObjectiveModel(ExactRewardModel model)
    {
        problem = model.Problem;
        if (problem.RoutesChains)
            throw new ComparisonInputException("Pareto fronts are computed for single (agent, provider) actions; a chain's summed latency has no exact law here.");
        var n = problem.ActionCount;
        typeOfTask = problem.Bank.Tasks.Select(t => (int)t.Type).ToArray();
        quality = Enumerable.Range(0, RoutingProblem.TypeCount)
            .Select(type => Enumerable.Range(0, n).Select(a => model.Occurs(type) ? model.ExpectedQuality(type, a) : 0.0).ToArray()).ToArray();
        cost = Enumerable.Range(0, problem.Bank.Count).Select(t => Enumerable.Range(0, n).Select(a => model.ExpectedCostUsdForTask(t, a)).ToArray()).ToArray();
        latency = Enumerable.Range(0, n).Select(model.LatencyOf).ToArray();
    }

    public RoutingProblem Problem => problem;

    public PolicyObjectives Of(TaskPolicy policy)
    {
        var tasks = problem.Bank.Count;
        var n = problem.ActionCount;
        double q = 0, c = 0;
        var share = new double[n];
        for (var t = 0; t < tasks; t++)
        {
            var row = policy.ActionProbabilities[t];
            for (var a = 0; a < n; a++)
            {
                if (row[a] == 0)
                    continue;
                q += row[a] * quality[typeOfTask[t]][a];
                c += row[a] * cost[t][a];
                share[a] += row[a] / tasks;
            }
        }
        return new PolicyObjectives(q / tasks, c / tasks, LatencyQuantile(share, 0.95));
    }

    /// <summary>The p-quantile of the latency of a routed task when action a is taken with probability share[a].</summary>
    public double LatencyQuantile(IReadOnlyList<double> share, double p)
    {
        double Cdf(double x)
        {
            if (x < ExactRewardModel.MinLatencySeconds)
                return 0;
            double sum = 0;
            for (var a = 0; a < share.Count; a++)
                sum += share[a] == 0 ? 0 : share[a] * latency[a].Cdf(x);
            return sum;
        }
        var low = ExactRewardModel.MinLatencySeconds;
        if (Cdf(low) >= p)
            return low;
        var high = low;
        for (var a = 0; a < share.Count; a++)
        {
            if (share[a] > 0)
                high = Math.Max(high, latency[a].Mean + 40 * latency[a].Spread);
        }
        while (high - low > LatencyTolerance)
        {
            var mid = 0.5 * (low + high);
            if (Cdf(mid) >= p)
                high = mid;
            else
                low = mid;
        }
        return high;
    }
}
