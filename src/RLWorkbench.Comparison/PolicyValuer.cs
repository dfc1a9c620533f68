using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;

namespace RLWorkbench.Comparison;

/// <summary>
/// The exact expected reward per routed task of a policy, from <see cref="ExactRewardModel"/> (on a chain problem, exact for
/// single steps and estimated to the model's stated <see cref="ExactRewardModel.Precision"/> for chains), and its expected agent cost.
/// Base problem: tasks are independent, so the value is the type-weighted expected reward of the chosen actions.
/// Load-balanced problem: the reward depends on the load window, so the value is the expected adjusted reward per task over
/// tasks <c>Window + 1 .. Window + Horizon</c> of a stream that starts with an empty window, computed by carrying the exact
/// distribution over window contents (the last Window agents, 4^Window of them) forward one task at a time.
/// </summary>
public sealed class PolicyValuer
{
    private readonly ExactRewardModel model;
    private readonly RoutingProblem problem;
    private readonly Dictionary<string, double> tableMemo = new(StringComparer.Ordinal);
    private readonly LoadWindows? windows;

    public PolicyValuer(ExactRewardModel model, int horizon = 32)
    {
        if (horizon < 1)
            throw new ComparisonInputException($"The evaluation horizon must be at least 1 task, not {horizon}.");
        this.model = model;
        problem = model.Problem;
        Horizon = horizon;
        if (problem.LoadBalanced)
            windows = new LoadWindows(problem);
        OracleValue = Value(new OraclePolicy());
    }

    public int Horizon { get; }

    public double OracleValue { get; }

    /// <summary>The best action per state ignoring the load penalty: the routing table a perfect learner of the base problem ends with.</summary>
    public int[] OracleTable() => Enumerable.Range(0, problem.StateCount).Select(s => model.BestAction(problem.StateParts(s).Type)).ToArray();

    public double Value(RoutingPolicy policy) => Average(policy, Measure.Reward);

    /// <summary>
    /// The policy's expected agent cost per routed task in USD, weighted exactly as <see cref="Value"/> (the judge's calls are
    /// the cost of measuring, not of the routing choice); for "value per dollar".
    /// </summary>
    public double ExpectedCostUsd(RoutingPolicy policy) => Average(policy, Measure.Cost);

    /// <summary>Expected reward per USD of agent calls; 0 when the policy's calls cost nothing.</summary>
    public double ValuePerDollar(RoutingPolicy policy)
    {
        var cost = ExpectedCostUsd(policy);
        return cost > 0 ? Value(policy) / cost : 0;
    }

    private enum Measure
    {
        Reward,
        Cost,
    }

    private double Average(RoutingPolicy policy, Measure measure)
    {
        if (policy is TablePolicy table && table.ActionPerState.Length != problem.StateCount)
            throw new ArgumentException($"A policy table for this problem has {problem.StateCount} states, not {table.ActionPerState.Length}.", nameof(policy));
        // Every policy's value is a pure function of the policy, and the load-balanced one costs tens of milliseconds.
        var key = policy switch
        {
            TablePolicy t => "table:" + t.Key,
            CyclicPolicy c => "cycle:" + string.Join(',', c.Sequence),
            UniformPolicy => "uniform",
            OraclePolicy => "oracle",
            MixturePolicy m => "mixture:" + m.Key,
            _ => throw new ArgumentOutOfRangeException(nameof(policy)),
        };
        if (measure == Measure.Cost)
            key = "cost:" + key;
        if (tableMemo.TryGetValue(key, out var known))
            return known;
        var value = windows is null ? BaseValue(policy, measure) : LoadBalancedValue(policy, measure);
        tableMemo[key] = value;
        return value;
    }

    private double BaseValue(RoutingPolicy policy, Measure measure)
    {
        double value = 0;
        for (var t = 0; t < RoutingProblem.TypeCount; t++)
        {
            var pt = problem.TypeProbabilities[t];
            if (pt == 0)
                continue;
            double Of(int a) => measure == Measure.Reward ? model.Expected(t, a) : model.ExpectedCostUsd(t, a);
            value += pt * policy switch
            {
                TablePolicy table => Of(table.ActionPerState[problem.StateIndex(t, 0)]),
                UniformPolicy => Enumerable.Range(0, problem.ActionCount).Average(Of),
                CyclicPolicy cyclic => cyclic.Sequence.Average(Of),
                // The oracle's choice is always the reward's best; its cost is that choice's.
                OraclePolicy => measure == Measure.Reward ? Enumerable.Range(0, problem.ActionCount).Max(Of) : Of(model.BestAction(t)),
                MixturePolicy mixture => mixture.ChainWeights[problem.StateIndex(t, 0)].Sum(w => w.Value * Of(w.Key)),
                _ => throw new ArgumentOutOfRangeException(nameof(policy)),
            };
        }
        return value;
    }

    private double LoadBalancedValue(RoutingPolicy policy, Measure measure)
    {
        var w = windows!;
        var types = problem.TypeProbabilities;
        var agentOf = problem.Actions.Select(a => (int)a.Agent).ToArray();
        var n = problem.ActionCount;
        // Expected reward per (type, action, penalty index): the inner loop only looks numbers up.
        var expected = new double[RoutingProblem.TypeCount, n, w.Penalties.Count];
        var measured = measure == Measure.Reward ? expected : new double[RoutingProblem.TypeCount, n, w.Penalties.Count];
        for (var t = 0; t < RoutingProblem.TypeCount; t++)
        {
            for (var a = 0; a < n; a++)
            {
                for (var p = 0; p < w.Penalties.Count; p++)
                {
                    expected[t, a, p] = types[t] == 0 ? 0 : model.Expected(t, a, w.Penalties[p]);
                    if (measure == Measure.Cost)
                        measured[t, a, p] = types[t] == 0 ? 0 : model.ExpectedCostUsd(t, a);
                }
            }
        }
        var current = new double[1];
        current[0] = 1.0;
        var length = 0;
        double total = 0;
        var steps = w.Size + Horizon;
        var choice = new double[n];
        for (var step = 0; step < steps; step++)
        {
            var nextLength = Math.Min(length + 1, w.Size);
            var next = new double[w.CodeCount(nextLength)];
            var counted = step >= w.Size;
            var loadState = w.LoadState[length];
            var penalty = w.PenaltyIndex[length];
            for (var code = 0; code < current.Length; code++)
            {
                var pw = current[code];
                if (pw == 0)
                    continue;
                var ls = loadState[code];
                for (var t = 0; t < RoutingProblem.TypeCount; t++)
                {
                    var pt = types[t];
                    if (pt == 0)
                        continue;
                    var mass = pw * pt;
                    if (policy is TablePolicy table)
                    {
                        var a = table.ActionPerState[problem.StateIndex(t, ls)];
                        var g = agentOf[a];
                        if (counted)
                            total += mass * measured[t, a, penalty[code * 4 + g]];
                        next[w.Push(length, code, g)] += mass;
                        continue;
                    }
                    Choose(policy, step, t, code, penalty, expected, agentOf, choice);
                    for (var a = 0; a < n; a++)
                    {
                        if (choice[a] == 0)
                            continue;
                        var g = agentOf[a];
                        if (counted)
                            total += mass * choice[a] * measured[t, a, penalty[code * 4 + g]];
                        next[w.Push(length, code, g)] += mass * choice[a];
                    }
                }
            }
            current = next;
            length = nextLength;
        }
        return total / Horizon;
    }

    private void Choose(RoutingPolicy policy, int step, int type, int code, int[] penalty, double[,,] expected, int[] agentOf, double[] choice)
    {
        Array.Clear(choice);
        switch (policy)
        {
            case UniformPolicy:
                Array.Fill(choice, 1.0 / choice.Length);
                break;
            case CyclicPolicy cyclic:
                choice[cyclic.Sequence[step % cyclic.Sequence.Length]] = 1.0;
                break;
            case OraclePolicy:
                var best = 0;
                for (var a = 1; a < choice.Length; a++)
                {
                    if (expected[type, a, penalty[code * 4 + agentOf[a]]] > expected[type, best, penalty[code * 4 + agentOf[best]]])
                        best = a;
                }
                choice[best] = 1.0;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(policy));
        }
    }

    /// <summary>
    /// Every possible content of the load window (oldest agent in the lowest base-4 digit) with its load state and the
    /// penalty each agent would get, both read from the routing module's own <see cref="LoadTracker"/>.
    /// </summary>
    private sealed class LoadWindows
    {
        public LoadWindows(RoutingProblem problem)
        {
            Size = problem.Load.Window;
            var agents = RoutingNames.Agents.Count;
            LoadState = new int[Size + 1][];
            PenaltyIndex = new int[Size + 1][];
            var penalties = new List<double>();
            var indexOf = new Dictionary<double, int>();
            for (var length = 0; length <= Size; length++)
            {
                var codes = CodeCount(length);
                LoadState[length] = new int[codes];
                PenaltyIndex[length] = new int[codes * agents];
                for (var code = 0; code < codes; code++)
                {
                    var tracker = new LoadTracker(problem.Load);
                    var rest = code;
                    for (var i = 0; i < length; i++)
                    {
                        tracker.Record(RoutingNames.Agents[rest % agents]);
                        rest /= agents;
                    }
                    LoadState[length][code] = LoadStates.IndexOf(tracker.LoadState);
                    for (var g = 0; g < agents; g++)
                    {
                        var p = tracker.Penalty(RoutingNames.Agents[g]);
                        if (!indexOf.TryGetValue(p, out var index))
                        {
                            index = penalties.Count;
                            penalties.Add(p);
                            indexOf[p] = index;
                        }
                        PenaltyIndex[length][code * agents + g] = index;
                    }
                }
            }
            Penalties = penalties;
        }

        public int Size { get; }

        public int[][] LoadState { get; }

        public int[][] PenaltyIndex { get; }

        public IReadOnlyList<double> Penalties { get; }

        public int CodeCount(int length) => 1 << (2 * length);

        public int Push(int length, int code, int agent) =>
            length < Size ? code + (agent << (2 * length)) : (code >> 2) + (agent << (2 * (Size - 1)));
    }
}
