using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;

namespace RLWorkbench.Comparison;

/// <summary>
/// The seed's Q-learning, through the routing module's coordinator (base or load-balanced, with the seed's settings):
/// nothing of its update is repeated here. The coordinator keeps its own load window; it sees the same assignments as the
/// environment's, and a mismatch in penalty would mean the two had drifted apart, so it is checked.
/// </summary>
public sealed class SeedQLearner : IRoutingLearner
{
    private readonly RoutingProblem problem;
    private readonly QLearningCoordinator coordinator;
    private readonly IRandomSource random;
    private RoutingDecision? pending;

    public SeedQLearner(RoutingProblem problem, QLearningOptions? options, IRandomSource random)
    {
        if (problem.ActionCount != RoutingAction.Count)
            throw new ComparisonInputException($"The seed's Q-learning coordinator routes over all {RoutingAction.Count} actions; this problem offers {problem.ActionCount}, so leave qlearn out or offer every action.");
        this.problem = problem;
        this.random = random;
        var learner = problem.LoadBalanced ? LoadBalancedCoordinator.Name : TaskTypeCoordinator.Name;
        options ??= problem.LoadBalanced ? QLearningOptions.LoadBalancedDefaults : new QLearningOptions();
        coordinator = QLearningCoordinator.Create(learner, options, problem.Load, random);
    }

    public QLearningCoordinator Coordinator => coordinator;

    public long LearnedParameters => (long)coordinator.Table.States.Count * coordinator.Table.ActionCount;

    public int Choose(in RoutingContext context)
    {
        pending = coordinator.Decide(context.Task);
        return pending.Action.Index;
    }

    public void Learn(in RoutingContext context, in RoutedTask outcome)
    {
        var decision = pending ?? throw new InvalidOperationException("Learn was called before Choose.");
        pending = null;
        // The seed bootstraps from a uniformly random next type, not the task that actually comes next.
        var nextType = RoutingNames.TaskTypes[random.Choice(RoutingNames.TaskTypes.Count)];
        var update = coordinator.Complete(decision, outcome.RawReward, nextType);
        if (Math.Abs(update.Penalty - outcome.Penalty) > 1e-12)
            throw new InvalidOperationException($"The coordinator's load penalty {update.Penalty} differs from the environment's {outcome.Penalty}: their load windows have drifted apart.");
    }

    public RoutingPolicy GreedyPolicy()
    {
        var table = new int[problem.StateCount];
        for (var s = 0; s < table.Length; s++)
        {
            var (type, load) = problem.StateParts(s);
            var row = coordinator.Table.StateIndex(coordinator.StateOf(RoutingNames.TaskTypes[type], LoadStates.All[load]));
            table[s] = coordinator.Table.ArgMax(row);
        }
        return new TablePolicy(table);
    }
}

/// <summary>
/// The bandit learners as the comparison runs them: the routing module's <see cref="SampleMeanBandit"/> (the one
/// implementation, also behind `qlearn --learner`) over the problem's states and actions.
/// </summary>
public abstract class BanditLearner(RoutingProblem problem, SampleMeanBandit bandit) : IRoutingLearner
{
    protected RoutingProblem Problem { get; } = problem;

    public SampleMeanBandit Bandit { get; } = bandit;

    public long[,] Counts => Bandit.Counts;

    public double[,] Sums => Bandit.Sums;

    public long[] StatePulls => Bandit.StatePulls;

    /// <summary>Counts and sums per (state, action).</summary>
    public long LearnedParameters => Bandit.LearnedParameters;

    public double Mean(int state, int action) => Bandit.Mean(state, action);

    public int Choose(in RoutingContext context) => Bandit.Choose(context.State);

    /// <summary>The bandit learns the reward the environment paid, which for the load-balanced problem includes the penalty.</summary>
    public void Learn(in RoutingContext context, in RoutedTask outcome) => Bandit.Record(context.State, outcome.Action, outcome.AdjustedReward);

    /// <summary>The best sample mean per state (first on ties); a state never seen keeps action 0.</summary>
    public RoutingPolicy GreedyPolicy()
    {
        var table = new int[Problem.StateCount];
        for (var s = 0; s < table.Length; s++)
            table[s] = Math.Max(Bandit.Greedy(s), 0);
        return new TablePolicy(table);
    }
}

/// <summary>UCB1 (see <see cref="Ucb1Bandit"/>).</summary>
public sealed class Ucb1Learner(RoutingProblem problem, double exploration)
    : BanditLearner(problem, new Ucb1Bandit(problem.StateCount, problem.ActionCount, exploration))
{
    public double Index(int state, int action) => ((Ucb1Bandit)Bandit).Index(state, action);
}

/// <summary>Gaussian Thompson sampling (see <see cref="ThompsonBandit"/>).</summary>
public sealed class ThompsonLearner(RoutingProblem problem, double noise, IRandomSource random)
    : BanditLearner(problem, new ThompsonBandit(problem.StateCount, problem.ActionCount, noise, random))
{
    internal static double StandardNormal(IRandomSource random) => ThompsonBandit.StandardNormal(random);
}

/// <summary>Uniformly random routing: the floor any learner must beat.</summary>
public sealed class RandomRouter(RoutingProblem problem, IRandomSource random) : IRoutingLearner
{
    public long LearnedParameters => 0;

    public int Choose(in RoutingContext context) => random.Choice(problem.ActionCount);

    public void Learn(in RoutingContext context, in RoutedTask outcome)
    {
    }

    public RoutingPolicy GreedyPolicy() => new UniformPolicy();
}

/// <summary>Round-robin over the actions in index order, blind to the task.</summary>
public sealed class RoundRobinRouter(RoutingProblem problem) : IRoutingLearner
{
    private long next;

    public long LearnedParameters => 0;

    public int Choose(in RoutingContext context) => (int)(next++ % problem.ActionCount);

    public void Learn(in RoutingContext context, in RoutedTask outcome)
    {
    }

    public RoutingPolicy GreedyPolicy() => new CyclicPolicy(Enumerable.Range(0, problem.ActionCount).ToArray());
}

/// <summary>
/// "Least busy" routing as LLM gateways offer it: the agent used least recently, then that agent's least recently used
/// provider (first in order on ties). Blind to the task, so its sequence is fixed in advance.
/// </summary>
public sealed class LeastRecentlyUsedRouter : IRoutingLearner
{
    private readonly RoutingProblem problem;
    private readonly long[] agentLastUse;
    private readonly long[] actionLastUse;
    private long clock;

    public LeastRecentlyUsedRouter(RoutingProblem problem)
    {
        this.problem = problem;
        agentLastUse = new long[RoutingNames.Agents.Count];
        actionLastUse = new long[problem.ActionCount];
        // Agents the problem offers no action for are never chosen.
        var offered = problem.Actions.Select(a => (int)a.Agent).ToHashSet();
        for (var g = 0; g < agentLastUse.Length; g++)
            agentLastUse[g] = offered.Contains(g) ? 0 : long.MaxValue;
    }

    public long LearnedParameters => 0;

    public int Choose(in RoutingContext context) => Next();

    private int Next()
    {
        var agent = 0;
        for (var g = 1; g < agentLastUse.Length; g++)
        {
            if (agentLastUse[g] < agentLastUse[agent])
                agent = g;
        }
        var action = -1;
        for (var a = 0; a < problem.ActionCount; a++)
        {
            if ((int)problem.Actions[a].Agent == agent && (action < 0 || actionLastUse[a] < actionLastUse[action]))
                action = a;
        }
        clock++;
        agentLastUse[agent] = clock;
        actionLastUse[action] = clock;
        return action;
    }

    public void Learn(in RoutingContext context, in RoutedTask outcome)
    {
    }

    /// <summary>
    /// The sequence a fresh router follows. With the same number of providers per agent it repeats every ActionCount tasks;
    /// otherwise a long prefix stands for the cycle.
    /// </summary>
    public RoutingPolicy GreedyPolicy()
    {
        var fresh = new LeastRecentlyUsedRouter(problem);
        var perAgent = problem.Actions.GroupBy(a => a.Agent).Select(g => g.Count()).Distinct().Count();
        var length = perAgent == 1 ? problem.ActionCount : 840 * problem.ActionCount;
        return new CyclicPolicy(Enumerable.Range(0, length).Select(_ => fresh.Next()).ToArray());
    }
}

/// <summary>Knows the profile's expected rewards: the ceiling the learners are measured against. It learns nothing.</summary>
public sealed class OracleRouter(RoutingProblem problem, ExactRewardModel model) : IRoutingLearner
{
    public long LearnedParameters => 0;

    public int Choose(in RoutingContext context)
    {
        var best = 0;
        var bestValue = double.NegativeInfinity;
        for (var a = 0; a < problem.ActionCount; a++)
        {
            var penalty = problem.LoadBalanced ? context.Load.Penalty(problem.Actions[a].Agent) : 0.0;
            var value = model.Expected(context.TypeIndex, a, penalty);
            if (value > bestValue)
            {
                best = a;
                bestValue = value;
            }
        }
        return best;
    }

    public void Learn(in RoutingContext context, in RoutedTask outcome)
    {
    }

    public RoutingPolicy GreedyPolicy() => new OraclePolicy();
}
