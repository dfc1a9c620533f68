using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;

namespace RLWorkbench.Comparison;

/// <summary>
/// The seed's Q-learning as the comparison runs it: the routing module's <see cref="TabularQLearner"/> (the one qlearn and
/// route drive) over the problem's states and actions, with the seed's settings for the problem's kind. It learns the reward
/// the environment paid (less the load penalty on the load-balanced problem) and bootstraps as the seed does.
/// </summary>
public static class SeedQLearner
{
    public static TabularQLearner Create(RoutingProblem problem, QLearningOptions? options, IRandomSource random)
    {
        options ??= problem.LoadBalanced ? QLearningOptions.LoadBalancedDefaults : new QLearningOptions();
        return new TabularQLearner(problem.StateCount, problem.ActionCount, options, random)
        {
            // The seed bootstraps from a uniformly random next type, not the task that actually comes next, under the load
            // state after this assignment (the environment has recorded it by the time the learner learns).
            NextState = (context, _) => problem.StateIndex(random.Choice(RoutingNames.TaskTypes.Count),
                problem.LoadBalanced ? LoadStates.IndexOf(context.Load.LoadState) : 0),
        };
    }
}

/// <summary>
/// The bandit learners as the comparison runs them: the routing module's <see cref="SampleMeanLearner"/> (the one qlearn and
/// route drive) over the problem's states and actions.
/// </summary>
public static class BanditLearner
{
    /// <summary>UCB1 (see <see cref="Ucb1Bandit"/>).</summary>
    public static SampleMeanLearner Ucb1(RoutingProblem problem, double exploration) =>
        new(new Ucb1Bandit(problem.StateCount, problem.ActionCount, exploration));

    /// <summary>Gaussian Thompson sampling (see <see cref="ThompsonBandit"/>).</summary>
    public static SampleMeanLearner Thompson(RoutingProblem problem, double noise, IRandomSource random) =>
        new(new ThompsonBandit(problem.StateCount, problem.ActionCount, noise, random));
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
