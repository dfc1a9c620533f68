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
/// Everything a coordinator needs to continue where it stopped (Ctrl+C, then --resume). A bandit's counts and sums ride
/// along in <paramref name="Bandit"/>; checkpoints written before bandits existed lack both new fields and read as Q-learning.
/// </summary>
public sealed record CoordinatorSnapshot(
    string Learner,
    double Epsilon,
    QTableDocument QTable,
    LoadTrackerSnapshot Load,
    string Algorithm = RoutingAlgorithms.QLearning,
    SampleMeanSnapshot? Bandit = null);

/// <summary>
/// Epsilon-greedy tabular Q-learning over (agent, provider) actions, or (with a bandit algorithm) UCB1 or Thompson sampling
/// on per-(state, action) sample means. The two coordinators differ only in what the state is and whether the load penalty
/// reduces the reward, so those are the two things a subclass says; the algorithm is orthogonal to both.
/// A bandit coordinator keeps <see cref="Table"/> equal to its sample means (0 where untried), so the Q-table artifact,
/// `plot` and `route --qtable` read it like any Q-table.
/// Not thread-safe: the workflow calls Decide and Complete one at a time even when calls overlap.
/// </summary>
public abstract class QLearningCoordinator
{
    private readonly IRandomSource random;
    private readonly SampleMeanBandit? bandit;

    protected QLearningCoordinator(QLearningOptions options, LoadTrackerOptions loadOptions, IRandomSource random, IReadOnlyList<string> states,
        string algorithm = RoutingAlgorithms.QLearning, BanditOptions? banditOptions = null)
    {
        Options = options;
        this.random = random;
        Table = new QTable(states);
        Load = new LoadTracker(loadOptions);
        Algorithm = algorithm;
        if (RoutingAlgorithms.IsBandit(algorithm))
        {
            bandit = SampleMeanBandit.Create(algorithm, states.Count, RoutingAction.Count, banditOptions ?? new BanditOptions(), random);
            // A bandit has no epsilon: its exploration is the untried-first rule and the index (or the draw).
            Epsilon = 0;
        }
        else if (algorithm == RoutingAlgorithms.QLearning)
        {
            Epsilon = options.EpsilonStart;
        }
        else
        {
            throw new RoutingInputException(RoutingAlgorithms.Unknown(algorithm));
        }
    }

    public abstract string Learner { get; }

    /// <summary>"q-learning" (the seed's), "ucb1" or "thompson".</summary>
    public string Algorithm { get; }

    /// <summary>The bandit's counts and sums, or null for Q-learning.</summary>
    public SampleMeanBandit? Bandit => bandit;

    public QLearningOptions Options { get; }

    public QTable Table { get; private set; }

    public LoadTracker Load { get; }

    public double Epsilon { get; private set; }

    /// <summary>The Q-table row label for a task type under a load state.</summary>
    public abstract string StateOf(TaskType type, string loadState);

    protected abstract bool PenalisesLoad { get; }

    /// <summary>
    /// Reads the load state and chooses: Q-learning takes a uniformly random action with probability epsilon, else the
    /// argmax (first on ties); a bandit takes its untried-first / index / draw choice, and "explored" means that choice is
    /// not the best sample mean. An epsilon override of 0 (route without --learn exploration) makes either one greedy.
    /// </summary>
    public RoutingDecision Decide(RoutingTask task, double? epsilonOverride = null)
    {
        var loadState = Load.LoadState;
        var state = StateOf(task.Type, loadState);
        var s = Table.StateIndex(state);
        if (bandit is not null)
        {
            var greedy = bandit.Greedy(s);
            var chosen = epsilonOverride == 0 ? Table.ArgMax(s) : bandit.Choose(s);
            return new RoutingDecision(task, state, s, loadState, RoutingAction.FromIndex(chosen), chosen != greedy, 0);
        }
        var epsilon = epsilonOverride ?? Epsilon;
        var explore = random.Random() < epsilon;
        var action = explore ? random.Choice(RoutingAction.Count) : Table.ArgMax(s);
        return new RoutingDecision(task, state, s, loadState, RoutingAction.FromIndex(action), explore, epsilon);
    }

    /// <summary>
    /// After the judge: penalty (read before recording), record the assignment, then
    /// Q += lr x (adjusted reward + gamma x max Q(next) - Q) with next = (next type, load state after recording), then decay epsilon.
    /// A bandit instead adds the adjusted reward to its (state, action) count and sum and writes the new sample mean into the
    /// table; it neither bootstraps from the next state nor decays anything.
    /// </summary>
    public RoutingUpdate Complete(RoutingDecision decision, double reward, TaskType nextType, bool learn = true, bool decay = true)
    {
        var agent = decision.Action.Agent;
        var penalty = PenalisesLoad ? Load.Penalty(agent) : 0.0;
        Load.Record(agent);
        var adjusted = Math.Max(0.0, reward - penalty);
        var nextState = StateOf(nextType, Load.LoadState);
        var next = Table.StateIndex(nextState);
        var a = decision.Action.Index;
        var before = Table[decision.StateIndex, a];
        if (learn && bandit is not null)
        {
            bandit.Record(decision.StateIndex, a, adjusted);
            Table[decision.StateIndex, a] = bandit.Mean(decision.StateIndex, a);
        }
        else if (learn)
        {
            var target = adjusted + Options.Gamma * Table.Max(next);
            Table[decision.StateIndex, a] = before + Options.LearningRate * (target - before);
        }
        if (decay && bandit is null)
            Epsilon = Math.Max(Options.EpsilonFloor, Epsilon * Options.EpsilonDecay);
        return new RoutingUpdate(reward, penalty, adjusted, nextState, before, Table[decision.StateIndex, a], Load.Utilisations(), Load.Imbalance, Epsilon);
    }

    /// <summary>
    /// The table as qlearn and route save it: its values plus which learner and algorithm wrote them. A table read from a file
    /// keeps the algorithm its file names, because route changes its values only with --learn, which it allows on q-learning tables.
    /// </summary>
    public string TableJson() => QTable.ToJson(Table.ToDocument() with { Learner = Learner, Algorithm = Table.Algorithm ?? Algorithm });

    public CoordinatorSnapshot Snapshot() => new(Learner, Epsilon, Table.ToDocument(), Load.Snapshot(), Algorithm, bandit?.Snapshot());

    public void Restore(CoordinatorSnapshot snapshot)
    {
        if (snapshot.Learner != Learner)
            throw new RoutingInputException($"The saved coordinator is '{snapshot.Learner}', not '{Learner}'.");
        var savedAlgorithm = snapshot.Algorithm ?? RoutingAlgorithms.QLearning;
        if (savedAlgorithm != Algorithm)
            throw new RoutingInputException($"The saved coordinator learned with '{savedAlgorithm}', not '{Algorithm}'.");
        var table = QTable.FromJson(System.Text.Json.JsonSerializer.Serialize(snapshot.QTable), "in the snapshot");
        if (!table.States.SequenceEqual(Table.States))
            throw new RoutingInputException($"The saved Q-table's states do not match the {Learner} coordinator's.");
        if (bandit is not null)
            bandit.Restore(snapshot.Bandit ?? throw new RoutingInputException($"The saved {Algorithm} coordinator has no counts and sums."));
        Table = table;
        Epsilon = snapshot.Epsilon;
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
