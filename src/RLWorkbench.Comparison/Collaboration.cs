using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;

namespace RLWorkbench.Comparison;

/// <summary>
/// The seed's collaboration matrix as a learner keeps it: per (state, ordered agent pair) how chains that hand work across
/// that pair did, relative to the state's mean reward. A chain's prediction is the state's mean plus the average of its
/// handoffs' values (a single step has no handoff, so it is predicted at the mean). Providers and positions are ignored:
/// the table is coarse on purpose, so a pair learned in one chain informs every chain that contains it.
/// </summary>
public sealed class PairTable
{
    private readonly long[,] pairCounts;
    private readonly double[,] pairSums;
    private readonly long[] statePulls;
    private readonly double[] stateSums;

    public PairTable(int states)
    {
        pairCounts = new long[states, CollaborationSignal.PairCount];
        pairSums = new double[states, CollaborationSignal.PairCount];
        statePulls = new long[states];
        stateSums = new double[states];
    }

    /// <summary>Count and sum per (state, pair), and per state.</summary>
    public long LearnedParameters => 2L * pairCounts.Length + 2L * statePulls.Length;

    public double StateMean(int state) => statePulls[state] == 0 ? 0.0 : stateSums[state] / statePulls[state];

    /// <summary>The pair's mean reward minus the state's mean at the time of each pull; 0 for a pair never seen.</summary>
    public double PairValue(int state, AgentRole from, AgentRole to)
    {
        var p = CollaborationSignal.PairIndex(from, to);
        return pairCounts[state, p] == 0 ? 0.0 : pairSums[state, p] / pairCounts[state, p];
    }

    public double Predict(int state, RoutingChain chain)
    {
        var mean = StateMean(state);
        if (chain.Length == 1)
            return mean;
        var bias = chain.Handoffs().Average(h => PairValue(state, h.From, h.To));
        return mean + bias;
    }

    public void Record(int state, RoutingChain chain, double reward)
    {
        // The residual is taken against the mean before this pull, so a pair's value says how it did against what was usual;
        // the state's first pull has nothing to compare with and counts as usual.
        var residual = statePulls[state] == 0 ? 0.0 : reward - StateMean(state);
        foreach (var (from, to) in chain.Handoffs())
        {
            var p = CollaborationSignal.PairIndex(from, to);
            pairCounts[state, p]++;
            pairSums[state, p] += residual;
        }
        statePulls[state]++;
        stateSums[state] += reward;
    }
}

/// <summary>
/// The discretised collaboration signal of the state-augmented learners: which ordered agent pair handed work over last
/// (the last handoff of the previous task's chain) and how that task went (its reward at or above the running mean of its
/// task type: "good", else "poor"); "none" when the previous task went to a single agent, or before the first task.
/// 1 + 12 x 2 = 25 values with four agents.
/// </summary>
public static class CollaborationSignal
{
    public const int None = 0;

    public static int PairCount => RoutingNames.Agents.Count * (RoutingNames.Agents.Count - 1);

    public static int Count => 1 + 2 * PairCount;

    /// <summary>Ordered pairs of distinct agents, from-major: researcher>analyst = 0, researcher>coder = 1, ...</summary>
    public static int PairIndex(AgentRole from, AgentRole to)
    {
        var f = (int)from;
        var t = (int)to;
        if (f == t)
            throw new ArgumentException($"A handoff is between two different agents, not {from.Name()} to itself.");
        return f * (RoutingNames.Agents.Count - 1) + (t > f ? t - 1 : t);
    }

    public static int Of(RoutingChain chain, bool good)
    {
        if (chain.Length == 1)
            return None;
        var (from, to) = chain.Handoffs().Last();
        return 1 + 2 * PairIndex(from, to) + (good ? 0 : 1);
    }

    public static string Label(int signal)
    {
        if (signal == None)
            return "none";
        var pair = (signal - 1) / 2;
        var agents = RoutingNames.Agents.Count - 1;
        var from = RoutingNames.Agents[pair / agents];
        var rest = pair % agents;
        var to = RoutingNames.Agents[rest >= (int)from ? rest + 1 : rest];
        return $"{from.Name()}>{to.Name()}:{((signal - 1) % 2 == 0 ? "good" : "poor")}";
    }
}

/// <summary>
/// A per-state mixture over chains: in state s the chain c is routed with probability ChainWeights[s][c] (absent = 0).
/// How a state-augmented learner's policy is valued: its greedy choice depends on the collaboration signal, which is not
/// part of the problem's state, so each type's choice is mixed over signals by how often each was seen recently.
/// </summary>
public sealed record MixturePolicy(IReadOnlyDictionary<int, double>[] ChainWeights) : RoutingPolicy
{
    public string Key => string.Join(';', ChainWeights.Select(w => string.Join(',', w.OrderBy(x => x.Key).Select(x => FormattableString.Invariant($"{x.Key}:{x.Value:R}")))));
}

/// <summary>
/// State augmentation: the inner learner's state is (problem state, collaboration signal), so it may learn to route
/// differently after a pair went well or badly. The inner learner is built for <c>problem states x signals</c> states; its
/// greedy table is read as a mixture over the signals seen in the last <see cref="ChainLearnerOptions.SignalWindow"/> tasks.
/// </summary>
public sealed class CollaborationStateLearner : IRoutingLearner
{
    private readonly IRoutingLearner inner;
    private readonly IReadOnlyList<RoutingChain> chains;
    private readonly int problemStates;
    private readonly int[] recent;
    private readonly long[] recentCounts;
    private readonly long[] typePulls;
    private readonly double[] typeSums;
    private long seen;
    private int signal = CollaborationSignal.None;

    public CollaborationStateLearner(RoutingProblem problem, Func<int, IRoutingLearner> createForStates, int window)
    {
        if (problem.LoadBalanced)
            throw new ComparisonInputException("The collaboration-state learners route the base problem (state = task type); leave them out of the load-balanced problem.");
        chains = problem.Chains;
        problemStates = problem.StateCount;
        inner = createForStates(problemStates * CollaborationSignal.Count);
        recent = new int[window];
        recentCounts = new long[CollaborationSignal.Count];
        typePulls = new long[RoutingProblem.TypeCount];
        typeSums = new double[RoutingProblem.TypeCount];
    }

    /// <summary>The signal the next task is routed under.</summary>
    public int Signal => signal;

    public long LearnedParameters => inner.LearnedParameters;

    public int AugmentedState(int state, int withSignal) => state * CollaborationSignal.Count + withSignal;

    public int Choose(in RoutingContext context) => inner.Choose(context with { State = AugmentedState(context.State, signal) });

    /// <summary>The next signal is set before the inner learner learns, so a bootstrapping learner can read it as its next state.</summary>
    public void Learn(in RoutingContext context, in RoutedTask outcome)
    {
        var routedUnder = AugmentedState(context.State, signal);
        var type = context.TypeIndex;
        var mean = typePulls[type] == 0 ? outcome.AdjustedReward : typeSums[type] / typePulls[type];
        typePulls[type]++;
        typeSums[type] += outcome.AdjustedReward;
        signal = CollaborationSignal.Of(chains[outcome.Action], outcome.AdjustedReward >= mean);
        inner.Learn(context with { State = routedUnder }, outcome);
        // The window holds the signal each of the last tasks was routed under; the one just produced is routed under next.
        var slot = (int)(seen % recent.Length);
        if (seen >= recent.Length)
            recentCounts[recent[slot]]--;
        recent[slot] = signal;
        recentCounts[signal]++;
        seen++;
    }

    /// <summary>Each state's greedy chain per signal, weighted by the signal's share of the window (before any task: the "none" signal).</summary>
    public RoutingPolicy GreedyPolicy()
    {
        if (inner.GreedyPolicy() is not TablePolicy table)
            throw new InvalidOperationException("A state-augmented learner needs an inner learner with a greedy table.");
        var total = recentCounts.Sum();
        var weights = new IReadOnlyDictionary<int, double>[problemStates];
        for (var s = 0; s < problemStates; s++)
        {
            var mix = new Dictionary<int, double>();
            for (var g = 0; g < CollaborationSignal.Count; g++)
            {
                var share = total == 0 ? (g == CollaborationSignal.None ? 1.0 : 0.0) : recentCounts[g] / (double)total;
                if (share == 0)
                    continue;
                var chain = table.ActionPerState[AugmentedState(s, g)];
                mix[chain] = mix.GetValueOrDefault(chain) + share;
            }
            weights[s] = mix;
        }
        return new MixturePolicy(weights);
    }
}
