using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Learning;

/// <summary>Tabular Q-learning knobs. Defaults are the seed's base coordinator; the load-balanced one decays epsilon by 0.98.</summary>
public sealed record QLearningOptions
{
    public double LearningRate { get; init; } = 0.15;

    public double Gamma { get; init; } = 0.95;

    public double EpsilonStart { get; init; } = 1.0;

    /// <summary>Multiplies epsilon after every iteration.</summary>
    public double EpsilonDecay { get; init; } = 0.97;

    public double EpsilonFloor { get; init; } = 0.05;

    public static QLearningOptions LoadBalancedDefaults { get; } = new() { EpsilonDecay = 0.98 };
}

/// <summary>What the coordinator chose for one task, and from which state (kept so the update can happen later, when the judge returns).</summary>
public sealed record RoutingDecision(RoutingTask Task, string State, int StateIndex, string LoadState, RoutingAction Action, bool Explored, double Epsilon);

/// <summary>What one update did: the reward before and after the load penalty, the next state it bootstrapped from, the load afterwards.</summary>
public sealed record RoutingUpdate(
    double RawReward,
    double Penalty,
    double AdjustedReward,
    string NextState,
    double QBefore,
    double QAfter,
    IReadOnlyList<double> Utilisations,
    double Imbalance,
    double EpsilonAfter);

/// <summary>
/// Everything a coordinator needs to continue where it stopped (Ctrl+C, then --resume): Q-learning's epsilon and Q-table,
/// or a bandit's counts and sums in <paramref name="Bandit"/>. Checkpoints written before bandits existed lack the last two
/// fields and read as Q-learning; bandit checkpoints from before bandit tables had their own document also carry the means
/// as a Q-table, which is not read.
/// </summary>
public sealed record CoordinatorSnapshot(
    string Learner,
    double Epsilon,
    QTableDocument? QTable,
    LoadTrackerSnapshot Load,
    string Algorithm = RoutingAlgorithms.QLearning,
    SampleMeanSnapshot? Bandit = null);

/// <summary>
/// Routes tasks with a tabular learner (the seed's Q-learning, UCB1 or Thompson sampling) and keeps what the seed's
/// coordinators are for: which state a task is in, the load window, and whether the load penalty reduces the reward. The two
/// coordinators differ only in those last two, so that is what a subclass says; the choice and the update are the learner's.
/// Not thread-safe: the workflow calls Decide and Complete one at a time even when calls overlap.
/// </summary>
public abstract class QLearningCoordinator
{
    private static readonly string[] ActionLabels = RoutingAction.All.Select(a => a.Label).ToArray();

    protected QLearningCoordinator(QLearningOptions options, LoadTrackerOptions loadOptions, IRandomSource random, IReadOnlyList<string> states,
        string algorithm = RoutingAlgorithms.QLearning, BanditOptions? banditOptions = null)
    {
        if (!RoutingAlgorithms.All.Contains(algorithm))
            throw new RoutingInputException(RoutingAlgorithms.Unknown(algorithm));
        Options = options;
        States = states;
        Load = new LoadTracker(loadOptions);
        RoutingLearner = TabularLearner.Create(algorithm, states.Count, RoutingAction.Count, options, banditOptions ?? new BanditOptions(), random);
    }

    public abstract string Learner { get; }

    /// <summary>The learner that chooses and learns: Q-learning, UCB1 or Thompson sampling over this coordinator's states.</summary>
    public TabularLearner RoutingLearner { get; }

    /// <summary>"q-learning" (the seed's), "ucb1" or "thompson".</summary>
    public string Algorithm => RoutingLearner.Algorithm;

    public QLearningOptions Options { get; }

    /// <summary>The state labels, one per row of the learner's table.</summary>
    public IReadOnlyList<string> States { get; }

    public LoadTracker Load { get; }

    public double Epsilon => RoutingLearner.Epsilon;

    /// <summary>The state label for a task type under a load state.</summary>
    public abstract string StateOf(TaskType type, string loadState);

    public int StateIndex(string state)
    {
        for (var i = 0; i < States.Count; i++)
        {
            if (States[i] == state)
                return i;
        }
        throw new RoutingInputException($"The {Learner} coordinator has no state '{state}'.");
    }

    /// <summary>The learner's greedy action in a state.</summary>
    public RoutingAction Greedy(string state) => RoutingAction.FromIndex(RoutingLearner.Greedy(StateIndex(state)));

    protected abstract bool PenalisesLoad { get; }

    /// <summary>Reads the load state and lets the learner choose; an epsilon override of 0 (route) makes any learner greedy.</summary>
    public RoutingDecision Decide(RoutingTask task, double? epsilonOverride = null)
    {
        var loadState = Load.LoadState;
        var state = StateOf(task.Type, loadState);
        var s = StateIndex(state);
        var choice = RoutingLearner.Choose(s, epsilonOverride);
        return new RoutingDecision(task, state, s, loadState, RoutingAction.FromIndex(choice.Action), choice.Explored, choice.Epsilon);
    }

    /// <summary>
    /// After the judge: penalty (read before recording), record the assignment, then the learner learns the adjusted reward
    /// max(0, reward - penalty), Q-learning bootstrapping from next = (next type, load state after recording).
    /// </summary>
    public RoutingUpdate Complete(RoutingDecision decision, double reward, TaskType nextType)
    {
        var agent = decision.Action.Agent;
        var penalty = PenalisesLoad ? Load.Penalty(agent) : 0.0;
        Load.Record(agent);
        var adjusted = Math.Max(0.0, reward - penalty);
        var nextState = StateOf(nextType, Load.LoadState);
        var a = decision.Action.Index;
        var before = RoutingLearner.Value(decision.StateIndex, a);
        RoutingLearner.Learn(decision.StateIndex, a, adjusted, StateIndex(nextState));
        return new RoutingUpdate(reward, penalty, adjusted, nextState, before, RoutingLearner.Value(decision.StateIndex, a), Load.Utilisations(), Load.Imbalance, Epsilon);
    }

    /// <summary>The learned table as qlearn and route save it (a Q-table or a bandit table), naming this coordinator and its algorithm.</summary>
    public SavedTable SaveTable() => RoutingLearner.SaveTable(States, ActionLabels, Learner);

    public CoordinatorSnapshot Snapshot()
    {
        var saved = RoutingLearner.Save(States, ActionLabels);
        return new CoordinatorSnapshot(Learner, saved.Epsilon, saved.QTable, Load.Snapshot(), Algorithm, saved.Bandit);
    }

    public void Restore(CoordinatorSnapshot snapshot)
    {
        if (snapshot.Learner != Learner)
            throw new RoutingInputException($"The saved coordinator is '{snapshot.Learner}', not '{Learner}'.");
        var savedAlgorithm = snapshot.Algorithm ?? RoutingAlgorithms.QLearning;
        if (savedAlgorithm != Algorithm)
            throw new RoutingInputException($"The saved coordinator learned with '{savedAlgorithm}', not '{Algorithm}'.");
        if (Algorithm == RoutingAlgorithms.QLearning
            && !QTable.FromJson(System.Text.Json.JsonSerializer.Serialize(snapshot.QTable), "in the snapshot").States.SequenceEqual(States))
            throw new RoutingInputException($"The saved Q-table's states do not match the {Learner} coordinator's.");
        RoutingLearner.Restore(new LearnerState(snapshot.Epsilon, snapshot.QTable, snapshot.Bandit), States);
        Load.Restore(snapshot.Load);
    }

    public static QLearningCoordinator Create(string learner, QLearningOptions options, LoadTrackerOptions loadOptions, IRandomSource random,
        string algorithm = RoutingAlgorithms.QLearning, BanditOptions? banditOptions = null) => learner switch
    {
        TaskTypeCoordinator.Name => new TaskTypeCoordinator(options, loadOptions, random, algorithm, banditOptions),
        LoadBalancedCoordinator.Name => new LoadBalancedCoordinator(options, loadOptions, random, algorithm, banditOptions),
        _ => throw new RoutingInputException($"Unknown learner '{learner}'; the learners are {TaskTypeCoordinator.Name} and {LoadBalancedCoordinator.Name}."),
    };
}

/// <summary>The seed's base coordinator: the state is the task type, 4 x 8 values.</summary>
public sealed class TaskTypeCoordinator(QLearningOptions options, LoadTrackerOptions loadOptions, IRandomSource random,
    string algorithm = RoutingAlgorithms.QLearning, BanditOptions? banditOptions = null)
    : QLearningCoordinator(options, loadOptions, random, RoutingNames.TaskTypes.Select(t => t.Name()).ToArray(), algorithm, banditOptions)
{
    public const string Name = "base";

    public override string Learner => Name;

    protected override bool PenalisesLoad => false;

    public override string StateOf(TaskType type, string loadState) => type.Name();
}

/// <summary>The seed's load-balanced coordinator: the state is (task type, load state), 20 x 8 values, rewards reduced by the load penalty.</summary>
public sealed class LoadBalancedCoordinator(QLearningOptions options, LoadTrackerOptions loadOptions, IRandomSource random,
    string algorithm = RoutingAlgorithms.QLearning, BanditOptions? banditOptions = null)
    : QLearningCoordinator(options, loadOptions, random,
        RoutingNames.TaskTypes.SelectMany(t => LoadStates.All.Select(l => $"{t.Name()}|{l}")).ToArray(), algorithm, banditOptions)
{
    public const string Name = "load-balanced";

    public override string Learner => Name;

    protected override bool PenalisesLoad => true;

    public override string StateOf(TaskType type, string loadState) => $"{type.Name()}|{loadState}";
}
