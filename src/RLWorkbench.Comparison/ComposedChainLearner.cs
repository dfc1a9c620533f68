using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;

namespace RLWorkbench.Comparison;

/// <summary>
/// The components a chain's value is composed of: its first step (agent, provider), and each refinement at position k >= 2
/// as (k, handing agent, receiving agent, receiving provider); with pairs, also each handoff's ordered agent pair alone
/// (shared across positions and providers: the pairwise collaboration table as features). Only components that occur in
/// some offered chain get an index, so the count follows the problem: 8 + 24 + 24 = 56 for every chain up to three steps
/// (68 with pairs), against 248 chains.
/// </summary>
public sealed class ChainComponents
{
    public ChainComponents(IReadOnlyList<RoutingChain> chains, bool withPairs)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var labels = new List<string>();
        int Of(string key)
        {
            if (!index.TryGetValue(key, out var i))
            {
                i = labels.Count;
                index[key] = i;
                labels.Add(key);
            }
            return i;
        }
        Features = chains.Select(chain =>
        {
            var f = new List<int> { Of($"first {chain.First.Label}") };
            for (var k = 1; k < chain.Length; k++)
            {
                var (from, to) = (chain.Steps[k - 1], chain.Steps[k]);
                f.Add(Of($"step {k + 1} {from.Agent.Name()}>{to.Label}"));
                if (withPairs)
                    f.Add(Of($"pair {from.Agent.Name()}>{to.Agent.Name()}"));
            }
            return f.ToArray();
        }).ToArray();
        Labels = labels;
    }

    /// <summary>Per chain, the indices of its components (each counted once: a chain has no agent twice).</summary>
    public int[][] Features { get; }

    public IReadOnlyList<string> Labels { get; }

    public int Count => Labels.Count;
}

/// <summary>
/// <c>composed-chains</c>: per state a value per component, a chain's value their sum, learned by Bayesian linear
/// regression: each component N(0, priorSd^2) a priori, each chain's reward an observation of the sum with N(0, noise^2)
/// noise. With A = (noise / priorSd)^2 I + sum x x^T the posterior mean is A^-1 b and the covariance noise^2 A^-1; A^-1 is
/// kept by rank-one updates. Exploration is optimism: the index is the posterior mean plus
/// <c>c sqrt(2 ln n) x noise x sqrt(x^T A^-1 x)</c>, UCB1's bonus in posterior standard deviations (for a chain of one
/// component pulled m times, noise / sqrt(m + ridge)). Optimism rather than sampling because it keeps the learner
/// deterministic given the rewards, needs no Cholesky factor per task, and differs from <c>ucb1-chains</c> in sharing and
/// in the noise scale, nothing else. The bonus is scaled by the noise, not by the reward range as UCB1's is: measured on
/// the default profile with chains up to three steps, the range-scaled bonus (UCB1's c = 1 on 56 components) kept
/// exploring long chains and settled after about 16,000 calls, the noise-scaled one after about 1,100 (docs/chains.md).
/// A chain never routed still gets a narrow width once its components were seen in other chains, so the calls needed
/// grow with the number of components (56 with three-step chains), not of chains (248).
/// The sum is a model: the simulated chain effects are not exactly additive (a refinement acts on the headroom left by the
/// earlier steps, and the cost and latency terms are capped), so the learner can settle on a chain whose true value is a
/// little below the best.
/// </summary>
public sealed class ComposedChainLearner : IRoutingLearner
{
    private readonly ChainComponents components;
    private readonly double exploration;
    private readonly double noise;
    private readonly double[][,] inverse;
    private readonly double[][] targets;
    private readonly double[][] means;
    private readonly long[] statePulls;
    private readonly double[] scratch;

    public ComposedChainLearner(int states, IReadOnlyList<RoutingChain> chains, double priorSd, double noise, double exploration, bool withPairs = false)
    {
        if (!(priorSd > 0) || !(noise > 0))
            throw new ComparisonInputException($"The composed learner's prior standard deviation and noise must be positive, got {priorSd} and {noise}.");
        components = new ChainComponents(chains, withPairs);
        this.exploration = exploration;
        this.noise = noise;
        var ridge = noise * noise / (priorSd * priorSd);
        var d = components.Count;
        inverse = new double[states][,];
        targets = new double[states][];
        means = new double[states][];
        for (var s = 0; s < states; s++)
        {
            inverse[s] = new double[d, d];
            for (var i = 0; i < d; i++)
                inverse[s][i, i] = 1.0 / ridge;
            targets[s] = new double[d];
            means[s] = new double[d];
        }
        statePulls = new long[states];
        scratch = new double[d];
    }

    public ChainComponents Components => components;

    /// <summary>Per state the components' posterior means, the inverse precision's upper triangle and the sums it is fitted to.</summary>
    public long LearnedParameters => (long)statePulls.Length * (2L * components.Count + (long)components.Count * (components.Count + 1) / 2);

    /// <summary>The posterior mean of the chain's value: the sum of its components'.</summary>
    public double Value(int state, int chain)
    {
        double v = 0;
        foreach (var i in components.Features[chain])
            v += means[state][i];
        return v;
    }

    /// <summary>x^T A^-1 x over the chain's components: its posterior variance in units of the noise variance.</summary>
    public double Width(int state, int chain)
    {
        var a = inverse[state];
        var f = components.Features[chain];
        double w = 0;
        foreach (var i in f)
        {
            foreach (var j in f)
                w += a[i, j];
        }
        return w;
    }

    public double Index(int state, int chain)
    {
        // ln n is at least ln 2, so the first tasks of a state also explore rather than all going to chain 0.
        var logPulls = Math.Log(Math.Max(2, statePulls[state]));
        return Value(state, chain) + exploration * noise * Math.Sqrt(2.0 * logPulls * Width(state, chain));
    }

    public int Choose(in RoutingContext context)
    {
        var s = context.State;
        var best = 0;
        var bestIndex = Index(s, 0);
        for (var c = 1; c < components.Features.Length; c++)
        {
            var index = Index(s, c);
            if (index > bestIndex)
            {
                best = c;
                bestIndex = index;
            }
        }
        return best;
    }

    /// <summary>Sherman-Morrison: A^-1 -= (A^-1 x)(A^-1 x)^T / (1 + x^T A^-1 x), then the mean A^-1 b again.</summary>
    public void Learn(in RoutingContext context, in RoutedTask outcome)
    {
        var s = context.State;
        var a = inverse[s];
        var f = components.Features[outcome.Action];
        var d = components.Count;
        for (var i = 0; i < d; i++)
        {
            double u = 0;
            foreach (var j in f)
                u += a[i, j];
            scratch[i] = u;
        }
        double denominator = 1;
        foreach (var j in f)
            denominator += scratch[j];
        for (var i = 0; i < d; i++)
        {
            var ui = scratch[i] / denominator;
            if (ui == 0)
                continue;
            for (var j = 0; j < d; j++)
                a[i, j] -= ui * scratch[j];
        }
        foreach (var j in f)
            targets[s][j] += outcome.AdjustedReward;
        var b = targets[s];
        var m = means[s];
        for (var i = 0; i < d; i++)
        {
            double v = 0;
            for (var j = 0; j < d; j++)
                v += a[i, j] * b[j];
            m[i] = v;
        }
        statePulls[s]++;
    }

    /// <summary>The chain with the highest posterior mean per state (first on ties).</summary>
    public RoutingPolicy GreedyPolicy()
    {
        var table = new int[statePulls.Length];
        for (var s = 0; s < table.Length; s++)
        {
            var best = 0;
            for (var c = 1; c < components.Features.Length; c++)
            {
                if (Value(s, c) > Value(s, best))
                    best = c;
            }
            table[s] = best;
        }
        return new TablePolicy(table);
    }
}
