using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Comparison.Pareto;

/// <summary>
/// A bandit that learns the reward vector instead of one scalarisation: per (state, action) the sample means of quality, agent
/// cost and agent latency. Because a weighted sum is linear, the greedy table for any weight vector is the argmax of the weighted
/// means, so one run gives the whole front (every weight vector of the sweep, or any other afterwards) from the calls of one.
/// Exploration is UCB1 under random scalarisations (Paria et al., 2019): each task draws one of the sweep's weight vectors at
/// random and takes the action with the highest weighted mean plus c sqrt(2 ln n_state / n_action), every action tried once
/// first; so calls go to actions that are best, or might be, for some weight vector, and not to the rest.
/// </summary>
public sealed class VectorUcbLearner
{
    private readonly int actions;
    private readonly IReadOnlyList<RewardWeights> weights;
    private readonly double exploration;
    private readonly IRandomSource random;
    private readonly long[] visits;
    private readonly long[,] pulls;
    private readonly double[,] quality;
    private readonly double[,] cost;
    private readonly double[,] latency;

    public VectorUcbLearner(int states, int actions, IReadOnlyList<RewardWeights> weights, double exploration, IRandomSource random)
    {
        if (weights.Count == 0)
            throw new ArgumentException("The vector bandit explores under the sweep's weight vectors; give at least one.", nameof(weights));
        this.actions = actions;
        this.weights = weights;
        this.exploration = exploration;
        this.random = random;
        visits = new long[states];
        pulls = new long[states, actions];
        quality = new double[states, actions];
        cost = new double[states, actions];
        latency = new double[states, actions];
    }

    /// <summary>Three means per (state, action).</summary>
    public long LearnedParameters => 3L * pulls.Length;

    public int Choose(int state)
    {
        for (var a = 0; a < actions; a++)
        {
            if (pulls[state, a] == 0)
                return a;
        }
        var w = weights[random.Choice(weights.Count)];
        var logVisits = Math.Log(visits[state]);
        var best = 0;
        var bestScore = double.NegativeInfinity;
        for (var a = 0; a < actions; a++)
        {
            var score = Weighted(w, state, a) + exploration * Math.Sqrt(2 * logVisits / pulls[state, a]);
            if (score > bestScore)
            {
                best = a;
                bestScore = score;
            }
        }
        return best;
    }

    public void Learn(int state, int action, RewardVector outcome)
    {
        visits[state]++;
        var n = ++pulls[state, action];
        quality[state, action] += (outcome.Quality - quality[state, action]) / n;
        cost[state, action] += (outcome.CostUsd - cost[state, action]) / n;
        latency[state, action] += (outcome.LatencySeconds - latency[state, action]) / n;
    }

    /// <summary>The greedy table for these weights: per state the action with the highest weighted means (untried actions last, first on ties).</summary>
    public int[] GreedyTable(RewardWeights w)
    {
        var table = new int[visits.Length];
        for (var s = 0; s < table.Length; s++)
        {
            var best = 0;
            var bestValue = double.NegativeInfinity;
            for (var a = 0; a < actions; a++)
            {
                var value = pulls[s, a] == 0 ? double.NegativeInfinity : Weighted(w, s, a);
                if (value > bestValue)
                {
                    best = a;
                    bestValue = value;
                }
            }
            table[s] = best;
        }
        return table;
    }

    /// <summary>
    /// The tables this learner believes efficient: every deterministic per-type table (untried actions left out), valued on its
    /// estimated means weighted by the type shares, and kept when no other table is estimated at least as good in quality and
    /// strictly cheaper, or better at no more cost, in the (cost, quality) or the (mean latency, quality) plane. Weight vectors
    /// only reach the convex part of a front, and two types with nearly the same trade-off rate need a weight inside a narrow
    /// window to be split; the estimated front has no windows.
    /// </summary>
    public IReadOnlyList<int[]> EstimatedFront(IReadOnlyList<double> typeShares)
    {
        var occurring = Enumerable.Range(0, typeShares.Count).Where(t => typeShares[t] > 0).ToArray();
        var tried = occurring.Select(t => Enumerable.Range(0, actions).Where(a => pulls[t, a] > 0).ToArray()).ToArray();
        if (tried.Any(list => list.Length == 0))
            return [GreedyTable(weights[0])];
        var count = tried.Aggregate(1, (n, list) => n * list.Length);
        var tables = new int[count][];
        var q = new double[count];
        var c = new double[count];
        var l = new double[count];
        for (var code = 0; code < count; code++)
        {
            var table = new int[visits.Length];
            var rest = code;
            for (var i = 0; i < occurring.Length; i++)
            {
                var t = occurring[i];
                var a = tried[i][rest % tried[i].Length];
                rest /= tried[i].Length;
                table[t] = a;
                q[code] += typeShares[t] * quality[t, a];
                c[code] += typeShares[t] * cost[t, a];
                l[code] += typeShares[t] * latency[t, a];
            }
            tables[code] = table;
        }
        var kept = new HashSet<int>();
        foreach (var x in new[] { c, l })
        {
            var best = double.NegativeInfinity;
            foreach (var i in Enumerable.Range(0, count).OrderBy(i => x[i]).ThenByDescending(i => q[i]))
            {
                if (q[i] > best)
                {
                    kept.Add(i);
                    best = q[i];
                }
            }
        }
        return kept.Order().Select(i => tables[i]).ToArray();
    }

    private double Weighted(RewardWeights w, int s, int a) => w.Quality * quality[s, a] - w.Cost * cost[s, a] - w.Latency * latency[s, a];
}
