using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Providers;

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

/// <summary>
/// What the coordinator chose for one task, and from which state (kept so the update can happen later, when the judge returns):
/// the chain at index <paramref name="ActionIndex"/> of the coordinator's chains; <paramref name="Action"/> is its first step
/// (for the seed's single-step actions, the action itself, whose index is ActionIndex).
/// </summary>
public sealed record RoutingDecision(RoutingTask Task, string State, int StateIndex, string LoadState, RoutingAction Action, bool Explored, double Epsilon,
    int ActionIndex, RoutingChain Chain);

/// <summary>
/// What one update did: the reward before and after the load penalty, the next state it bootstrapped from, the load afterwards,
/// and the task's reward vector with its fairness (the first agent's load penalty, measured whether or not the coordinator
/// subtracts it; null where the caller gave no vector).
/// </summary>
public sealed record RoutingUpdate(
    double RawReward,
    double Penalty,
    double AdjustedReward,
    string NextState,
    double QBefore,
    double QAfter,
    IReadOnlyList<double> Utilisations,
    double Imbalance,
    double EpsilonAfter,
    RewardVector? Vector = null);

/// <summary>
/// Everything a coordinator needs to continue where it stopped (Ctrl+C, then --resume): Q-learning's epsilon and Q-table,
/// a bandit's counts and sums in <paramref name="Bandit"/>, or the composed learner's posterior in <paramref name="Composed"/>.
/// Checkpoints written before bandits existed lack the last fields and read as Q-learning; bandit checkpoints from before
/// bandit tables had their own document also carry the means as a Q-table, which is not read.
/// </summary>
public sealed record CoordinatorSnapshot(
    string Learner,
    double Epsilon,
    QTableDocument? QTable,
    LoadTrackerSnapshot Load,
    string Algorithm = RoutingAlgorithms.QLearning,
    SampleMeanSnapshot? Bandit = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] ComposedSnapshot? Composed = null);

/// <summary>
/// Routes tasks with a tabular learner (the seed's Q-learning, UCB1, Thompson sampling or the composed chain learner) and keeps what the seed's
/// coordinators are for: which state a task is in, the load window, and whether the load penalty reduces the reward. The two
/// coordinators differ only in those last two, so that is what a subclass says; the choice and the update are the learner's.
/// Not thread-safe: the workflow calls Decide and Complete one at a time even when calls overlap.
/// </summary>
public abstract class QLearningCoordinator
{
    private static readonly RoutingChain[] SingleSteps = RoutingAction.All.Select(RoutingChain.Single).ToArray();

    private readonly string[] actionLabels;

    protected QLearningCoordinator(QLearningOptions options, LoadTrackerOptions loadOptions, IRandomSource random, IReadOnlyList<string> states,
        string algorithm = RoutingAlgorithms.QLearning, BanditOptions? banditOptions = null, IReadOnlyList<RoutingChain>? chains = null,
        ProviderStateReader? providerState = null, ComposedLearnerOptions? composedOptions = null)
    {
        if (!RoutingAlgorithms.All.Contains(algorithm))
            throw new RoutingInputException(RoutingAlgorithms.Unknown(algorithm));
        Options = options;
        ProviderState = providerState;
        // With the providers' health in the state, each of the coordinator's own states is split by every joint health label.
        States = providerState is null ? states : states.SelectMany(s => ProviderStateReader.Labels.Select(h => WithHealth(s, h))).ToArray();
        Chains = chains ?? SingleSteps;
        actionLabels = Chains.Select(c => c.Label).ToArray();
        RoutesChains = Chains.Any(c => c.Length > 1) || !actionLabels.SequenceEqual(SingleSteps.Select(c => c.Label));
        Load = new LoadTracker(loadOptions);
        RoutingLearner = TabularLearner.Create(algorithm, States.Count, Chains, options, banditOptions ?? new BanditOptions(), composedOptions ?? new ComposedLearnerOptions(), random);
    }

    /// <summary>What the learner's action i routes to: Chains[i]. Without chains, the seed's eight single (agent, provider) steps in index order.</summary>
    public IReadOnlyList<RoutingChain> Chains { get; }

    /// <summary>True unless the actions are exactly the seed's eight single steps (then tables and checkpoints are the seed's shape).</summary>
    public bool RoutesChains { get; }

    public IReadOnlyList<string> ActionLabels => actionLabels;

    public abstract string Learner { get; }

    /// <summary>The learner that chooses and learns: Q-learning, UCB1, Thompson sampling or composed over this coordinator's states.</summary>
    public TabularLearner RoutingLearner { get; }

    /// <summary>"q-learning" (the seed's), "ucb1", "thompson" or "composed".</summary>
    public string Algorithm => RoutingLearner.Algorithm;

    public QLearningOptions Options { get; }

    /// <summary>The state labels, one per row of the learner's table.</summary>
    public IReadOnlyList<string> States { get; }

    public LoadTracker Load { get; }

    /// <summary>The providers' health when it is part of the state (qlearn's "state": "health"); null otherwise.</summary>
    public ProviderStateReader? ProviderState { get; }

    public double Epsilon => RoutingLearner.Epsilon;

    /// <summary>The full state label now: the coordinator's own, with the providers' health appended when it is part of the state.</summary>
    public string CurrentState(TaskType type, string loadState) =>
        ProviderState is null ? StateOf(type, loadState) : WithHealth(StateOf(type, loadState), ProviderState.Current());

    private static string WithHealth(string state, string health) => $"{state}|{health}";

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
    public RoutingChain Greedy(string state) => Chains[RoutingLearner.Greedy(StateIndex(state))];

    protected abstract bool PenalisesLoad { get; }

    /// <summary>Reads the load state and lets the learner choose; an epsilon override of 0 (route) makes any learner greedy.</summary>
    public RoutingDecision Decide(RoutingTask task, double? epsilonOverride = null)
    {
        var loadState = Load.LoadState;
        var state = CurrentState(task.Type, loadState);
        var s = StateIndex(state);
        var choice = RoutingLearner.Choose(s, epsilonOverride);
        var chain = Chains[choice.Action];
        return new RoutingDecision(task, state, s, loadState, chain.First, choice.Explored, choice.Epsilon, choice.Action, chain);
    }

    /// <summary>
    /// After the judge: penalty on the first agent (read before recording), record every step's agent, then the learner learns
    /// the adjusted reward max(0, reward - penalty), Q-learning bootstrapping from next = (next type, load state after recording).
    /// </summary>
    public RoutingUpdate Complete(RoutingDecision decision, double reward, TaskType nextType) => Complete(decision, reward, null, nextType, null);

    /// <summary>
    /// As above, also keeping the task's reward vector with its fairness (the first agent's load penalty, read before recording,
    /// whichever coordinator). Without weights the learner learns the seed's reward exactly as above. With weights it learns
    /// their scalarisation of the vector, not clipped at 0; the raw reward is then the scalarisation without fairness and the
    /// penalty the fairness weight times the fairness, so adjusted = raw - penalty still holds.
    /// </summary>
    public RoutingUpdate Complete(RoutingDecision decision, double reward, RewardVector? vector, TaskType nextType, RewardWeights? weights)
    {
        if (weights is not null && vector is null)
            throw new ArgumentNullException(nameof(vector), "Weights scalarise a reward vector; none was given.");
        var fairness = Load.Penalty(decision.Chain.First.Agent);
        var measured = vector?.WithFairness(fairness);
        double penalty, adjusted;
        if (weights is null)
        {
            penalty = PenalisesLoad ? fairness : 0.0;
            adjusted = Math.Max(0.0, reward - penalty);
        }
        else
        {
            reward = weights.Scalarise(measured!.WithFairness(0));
            penalty = weights.Fairness * fairness;
            adjusted = weights.Scalarise(measured);
        }
        foreach (var step in decision.Chain.Steps)
            Load.Record(step.Agent);
        var nextState = CurrentState(nextType, Load.LoadState);
        var a = decision.ActionIndex;
        var before = RoutingLearner.Value(decision.StateIndex, a);
        RoutingLearner.Learn(decision.StateIndex, a, adjusted, StateIndex(nextState));
        return new RoutingUpdate(reward, penalty, adjusted, nextState, before, RoutingLearner.Value(decision.StateIndex, a), Load.Utilisations(), Load.Imbalance, Epsilon, measured);
    }

    /// <summary>
    /// A task whose chain failed part-way (a provider failed after earlier steps answered): the learner learns a reward of 0,
    /// what the user got, so a chain that keeps failing loses its place (unlearned, UCB1's untried-first rule and a bandit's
    /// unchanged mean sent every task to it until maxFailedCalls stopped the run). The load is left as it was and no next
    /// task type is drawn (the random stream stays as for a single agent's failure); Q-learning bootstraps from the state
    /// the task was routed in.
    /// </summary>
    public RoutingUpdate Failed(RoutingDecision decision)
    {
        var before = RoutingLearner.Value(decision.StateIndex, decision.ActionIndex);
        RoutingLearner.Learn(decision.StateIndex, decision.ActionIndex, 0, decision.StateIndex);
        return new RoutingUpdate(0, 0, 0, decision.State, before, RoutingLearner.Value(decision.StateIndex, decision.ActionIndex), Load.Utilisations(), Load.Imbalance, Epsilon);
    }

    /// <summary>The learned table as qlearn and route save it (a Q-table, a bandit table or a composed table), naming this coordinator and its algorithm.</summary>
    public SavedTable SaveTable() => RoutingLearner.SaveTable(States, actionLabels, Learner);

    public CoordinatorSnapshot Snapshot()
    {
        var saved = RoutingLearner.Save(States, actionLabels);
        return new CoordinatorSnapshot(Learner, saved.Epsilon, saved.QTable, Load.Snapshot(), Algorithm, saved.Bandit, saved.Composed);
    }

    public void Restore(CoordinatorSnapshot snapshot)
    {
        if (snapshot.Learner != Learner)
            throw new RoutingInputException($"The saved coordinator is '{snapshot.Learner}', not '{Learner}'.");
        var savedAlgorithm = snapshot.Algorithm ?? RoutingAlgorithms.QLearning;
        if (savedAlgorithm != Algorithm)
            throw new RoutingInputException($"The saved coordinator learned with '{savedAlgorithm}', not '{Algorithm}'.");
        // The seed's single-step table is checked as any Q-table file is; a chain table's actions must be this run's chains.
        if (Algorithm == RoutingAlgorithms.QLearning && !RoutesChains
            && !QTable.FromJson(System.Text.Json.JsonSerializer.Serialize(snapshot.QTable), "in the snapshot").States.SequenceEqual(States))
            throw new RoutingInputException($"The saved Q-table's states do not match the {Learner} coordinator's.");
        if (Algorithm == RoutingAlgorithms.QLearning && RoutesChains && snapshot.QTable?.Actions is { } saved && !saved.SequenceEqual(actionLabels))
            throw new RoutingInputException($"The saved Q-table routes {saved.Length} chains, not this run's {actionLabels.Length} (its chain settings differ).");
        if (snapshot.Bandit is { Counts: { } counts } && counts.Any(r => r is not null && r.Length != actionLabels.Length))
            throw new RoutingInputException($"The saved bandit routes another number of chains than this run's {actionLabels.Length} (its chain settings differ).");
        RoutingLearner.Restore(new LearnerState(snapshot.Epsilon, snapshot.QTable, snapshot.Bandit, snapshot.Composed), States);
        Load.Restore(snapshot.Load);
    }

    public static QLearningCoordinator Create(string learner, QLearningOptions options, LoadTrackerOptions loadOptions, IRandomSource random,
        string algorithm = RoutingAlgorithms.QLearning, BanditOptions? banditOptions = null, IReadOnlyList<RoutingChain>? chains = null,
        ProviderStateReader? providerState = null, ComposedLearnerOptions? composedOptions = null) => learner switch
    {
        TaskTypeCoordinator.Name => new TaskTypeCoordinator(options, loadOptions, random, algorithm, banditOptions, chains, providerState, composedOptions),
        LoadBalancedCoordinator.Name => new LoadBalancedCoordinator(options, loadOptions, random, algorithm, banditOptions, chains, providerState, composedOptions),
        _ => throw new RoutingInputException($"Unknown learner '{learner}'; the learners are {TaskTypeCoordinator.Name} and {LoadBalancedCoordinator.Name}."),
    };
}

/// <summary>The seed's base coordinator: the state is the task type, 4 x 8 values.</summary>
public sealed class TaskTypeCoordinator(QLearningOptions options, LoadTrackerOptions loadOptions, IRandomSource random,
    string algorithm = RoutingAlgorithms.QLearning, BanditOptions? banditOptions = null, IReadOnlyList<RoutingChain>? chains = null, ProviderStateReader? providerState = null,
    ComposedLearnerOptions? composedOptions = null)
    : QLearningCoordinator(options, loadOptions, random, RoutingNames.TaskTypes.Select(t => t.Name()).ToArray(), algorithm, banditOptions, chains, providerState, composedOptions)
{
    public const string Name = "base";

    public override string Learner => Name;

    protected override bool PenalisesLoad => false;

    public override string StateOf(TaskType type, string loadState) => type.Name();
}

/// <summary>The seed's load-balanced coordinator: the state is (task type, load state), 20 x 8 values, rewards reduced by the load penalty.</summary>
public sealed class LoadBalancedCoordinator(QLearningOptions options, LoadTrackerOptions loadOptions, IRandomSource random,
    string algorithm = RoutingAlgorithms.QLearning, BanditOptions? banditOptions = null, IReadOnlyList<RoutingChain>? chains = null, ProviderStateReader? providerState = null,
    ComposedLearnerOptions? composedOptions = null)
    : QLearningCoordinator(options, loadOptions, random,
        RoutingNames.TaskTypes.SelectMany(t => LoadStates.All.Select(l => $"{t.Name()}|{l}")).ToArray(), algorithm, banditOptions, chains, providerState, composedOptions)
{
    public const string Name = "load-balanced";

    public override string Learner => Name;

    protected override bool PenalisesLoad => true;

    public override string StateOf(TaskType type, string loadState) => $"{type.Name()}|{loadState}";
}
