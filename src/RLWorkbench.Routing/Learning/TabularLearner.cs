using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Learning;

/// <summary>One choice of a tabular learner: the action, whether it departs from the greedy one, and the epsilon it used (0 for a bandit).</summary>
public readonly record struct TabularChoice(int Action, bool Explored, double Epsilon);

/// <summary>
/// What a tabular learner saves in a qlearn checkpoint: Q-learning's values and epsilon, a bandit's counts and sums, or
/// the composed learner's posterior. The Q-values carry their state labels (the coordinator's), so a checkpoint from
/// another coordinator is refused.
/// </summary>
public sealed record LearnerState(double Epsilon, QTableDocument? QTable, SampleMeanSnapshot? Bandit, ComposedSnapshot? Composed = null);

/// <summary>The learned table as a run saves it: which file, its JSON (what `route --qtable` reads) and a CSV for people.</summary>
public sealed record SavedTable(string JsonFileName, string Json, string CsvFileName, string Csv);

/// <summary>
/// A learner over a table of (state, action) statistics: the seed's Q-learning or a sample-mean bandit. The qlearn and route
/// coordinators and the comparison all drive the same instances; the coordinator says which state a task is in and what it
/// earned, the learner chooses and learns. <see cref="IRoutingLearner"/> reads the state from the context; the coordinator,
/// which keeps its own labels, calls the state-index overloads.
/// </summary>
public abstract class TabularLearner : IRoutingLearner
{
    protected TabularLearner(int states, int actions)
    {
        if (states < 1 || actions < 1)
            throw new RoutingInputException($"A tabular learner needs at least one state and one action, not {states} x {actions}.");
        StateCount = states;
        ActionCount = actions;
    }

    public int StateCount { get; }

    public int ActionCount { get; }

    /// <summary>"q-learning", "ucb1", "thompson" or "composed": what a saved table and a checkpoint record.</summary>
    public abstract string Algorithm { get; }

    public abstract long LearnedParameters { get; }

    /// <summary>Q-learning's exploration rate now; a bandit has none (its exploration is in its rule).</summary>
    public virtual double Epsilon => 0;

    /// <summary>
    /// The action for a state. An epsilon override replaces Q-learning's epsilon for this choice; for a bandit an override of 0
    /// (route's greedy routing) takes the best sample mean instead of its exploring rule.
    /// </summary>
    public abstract TabularChoice Choose(int state, double? epsilonOverride = null);

    /// <summary>The greedy action (first on ties), without drawing anything.</summary>
    public abstract int Greedy(int state);

    /// <summary>What the table holds for (state, action): a Q-value, or a sample mean (0 where untried).</summary>
    public abstract double Value(int state, int action);

    /// <summary>Learns what routing <paramref name="action"/> in <paramref name="state"/> earned; Q-learning bootstraps from <paramref name="nextState"/>.</summary>
    public abstract void Learn(int state, int action, double reward, int nextState);

    /// <summary>The learner's exploration at a choice, for a progress line ("eps 0.970", "tried 3/8").</summary>
    public abstract string DescribeExploration(int state, in TabularChoice choice);

    public abstract LearnerState Save(IReadOnlyList<string> states, IReadOnlyList<string> actions);

    /// <summary>Takes a saved state; <paramref name="states"/> are this learner's labels, which a saved Q-table must match.</summary>
    public abstract void Restore(LearnerState saved, IReadOnlyList<string> states);

    /// <summary>The table as qlearn and route save it, with the coordinator and algorithm that wrote it.</summary>
    public abstract SavedTable SaveTable(IReadOnlyList<string> states, IReadOnlyList<string> actions, string coordinator);

    public int Choose(in RoutingContext context) => Choose(context.State).Action;

    /// <summary>Learns the adjusted reward; the bootstrap state comes from <see cref="NextState"/> (the state itself when none is set).</summary>
    public void Learn(in RoutingContext context, in RoutedTask outcome) =>
        Learn(context.State, outcome.Action, outcome.AdjustedReward, NextState?.Invoke(context, outcome) ?? context.State);

    /// <summary>Which state Q-learning bootstraps from when it learns through <see cref="IRoutingLearner"/> (the caller's rule).</summary>
    public Func<RoutingContext, RoutedTask, int>? NextState { get; init; }

    /// <summary>The greedy action per state; a bandit state never tried keeps action 0.</summary>
    public RoutingPolicy GreedyPolicy() => new TablePolicy(Enumerable.Range(0, StateCount).Select(Greedy).ToArray());

    /// <summary>The learner a name stands for, over (states, the chains on offer); each reads only its own settings.</summary>
    public static TabularLearner Create(string algorithm, int states, IReadOnlyList<RoutingChain> chains, QLearningOptions qLearning, BanditOptions bandits,
        ComposedLearnerOptions composed, IRandomSource random) => algorithm switch
    {
        RoutingAlgorithms.QLearning => new TabularQLearner(states, chains.Count, qLearning, random),
        RoutingAlgorithms.Composed => new ComposedChainLearner(states, chains, composed),
        _ => new SampleMeanLearner(SampleMeanBandit.Create(algorithm, states, chains.Count, bandits, random)),
    };
}
