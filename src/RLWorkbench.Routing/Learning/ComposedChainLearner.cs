using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Learning;

/// <summary>
/// The composed learner's settings: qlearn's <c>composed</c> section; compare's <c>chainLearners</c> composed* keys take
/// their defaults from here.
/// </summary>
public sealed record ComposedLearnerOptions
{
    public const double DefaultPriorSd = 1.0;

    public const double DefaultNoise = 0.1;

    public const double DefaultExploration = 1.0;

    /// <summary>Each component's prior standard deviation: 1 is the whole reward range, so the prior says little and the data decide.</summary>
    public double PriorSd { get; init; } = DefaultPriorSd;

    /// <summary>The reward noise (standard deviation) assumed, as Thompson sampling's 0.1: the simulated rewards spread about 0.03 to 0.06.</summary>
    public double Noise { get; init; } = DefaultNoise;

    /// <summary>The multiplier on the optimism bonus (posterior standard deviations times sqrt(2 ln n)); 0 is greedy on the posterior mean.</summary>
    public double Exploration { get; init; } = DefaultExploration;

    /// <summary>Also a component per handoff's ordered agent pair (compare's <c>composed-chains-pairs</c>).</summary>
    public bool WithPairs { get; init; }

    /// <summary>Returns what is wrong with these settings as one sentence, or null.</summary>
    public string? Problem()
    {
        if (!(PriorSd > 0) || !double.IsFinite(PriorSd))
            return $"'composed.priorSd' must be a positive number, got {PriorSd.ToString(System.Globalization.CultureInfo.InvariantCulture)}.";
        if (!(Noise > 0) || !double.IsFinite(Noise))
            return $"'composed.noise' must be a positive number, got {Noise.ToString(System.Globalization.CultureInfo.InvariantCulture)}.";
        if (!(Exploration >= 0) || !double.IsFinite(Exploration))
            return $"'composed.exploration' must be a non-negative number, got {Exploration.ToString(System.Globalization.CultureInfo.InvariantCulture)}.";
        return null;
    }
}

/// <summary>
/// The composed learner's posterior as a checkpoint and a saved table keep it: its component labels (which must be the
/// run's), per state the full inverse precision (row per component; kept whole because rank-one updates leave it only
/// nearly symmetric), the target sums, the means and the pulls. JSON writes doubles in their shortest round-trip form,
/// so a restored learner is bit-identical.
/// </summary>
public sealed record ComposedSnapshot(string[] Components, double[][][] Inverse, double[][] Targets, double[][] Means, long[] StatePulls);

/// <summary>
/// <c>composed</c> in qlearn, <c>composed-chains</c> in compare: per state a value per component, a chain's value their sum, learned by Bayesian linear
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
public sealed class ComposedChainLearner : TabularLearner
{
    private readonly ChainComponents components;
    private readonly double exploration;
    private readonly double noise;
    private readonly double priorSd;
    private readonly bool withPairs;
    private readonly double priorVariance;
    private readonly double[][,] inverse;
    private readonly double[][] targets;
    private readonly double[][] means;
    private readonly long[] statePulls;
    private readonly double[] scratch;

    public ComposedChainLearner(int states, IReadOnlyList<RoutingChain> chains, double priorSd, double noise, double exploration, bool withPairs = false)
        : base(states, chains.Count)
    {
        if (!(priorSd > 0) || !(noise > 0))
            throw new RoutingInputException($"The composed learner's prior standard deviation and noise must be positive, got {priorSd} and {noise}.");
        components = new ChainComponents(chains, withPairs);
        this.exploration = exploration;
        this.noise = noise;
        this.priorSd = priorSd;
        this.withPairs = withPairs;
        var ridge = noise * noise / (priorSd * priorSd);
        priorVariance = 1.0 / ridge;
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

    public ComposedChainLearner(int states, IReadOnlyList<RoutingChain> chains, ComposedLearnerOptions options)
        : this(states, chains, options.PriorSd, options.Noise, options.Exploration, options.WithPairs)
    {
    }

    public ChainComponents Components => components;

    /// <summary>The settings it was built with, as a saved table records them.</summary>
    public ComposedLearnerOptions Settings => new() { PriorSd = priorSd, Noise = noise, Exploration = exploration, WithPairs = withPairs };

    public override string Algorithm => RoutingAlgorithms.Composed;

    /// <summary>Per state the components' posterior means, the inverse precision's upper triangle and the sums it is fitted to.</summary>
    public override long LearnedParameters => (long)statePulls.Length * (2L * components.Count + (long)components.Count * (components.Count + 1) / 2);

    /// <summary>The posterior mean of the chain's value: the sum of its components'.</summary>
    public override double Value(int state, int chain)
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

    /// <summary>
    /// The chain with the highest optimistic index (first on ties); an epsilon override of 0 (route's greedy routing) takes
    /// the best posterior mean instead. "Explored" means the choice is not the best posterior mean.
    /// </summary>
    public override TabularChoice Choose(int state, double? epsilonOverride = null)
    {
        var greedy = Greedy(state);
        if (epsilonOverride == 0)
            return new TabularChoice(greedy, false, 0);
        var best = 0;
        var bestIndex = Index(state, 0);
        for (var c = 1; c < ActionCount; c++)
        {
            var index = Index(state, c);
            if (index > bestIndex)
            {
                best = c;
                bestIndex = index;
            }
        }
        return new TabularChoice(best, best != greedy, 0);
    }

    /// <summary>The chain with the highest posterior mean (first on ties).</summary>
    public override int Greedy(int state)
    {
        var best = 0;
        var bestValue = Value(state, 0);
        for (var c = 1; c < ActionCount; c++)
        {
            var value = Value(state, c);
            if (value > bestValue)
                (best, bestValue) = (c, value);
        }
        return best;
    }

    /// <summary>Sherman-Morrison: A^-1 -= (A^-1 x)(A^-1 x)^T / (1 + x^T A^-1 x), then the mean A^-1 b again. Nothing bootstraps.</summary>
    public override void Learn(int state, int action, double reward, int nextState)
    {
        var s = state;
        var a = inverse[s];
        var f = components.Features[action];
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
            targets[s][j] += reward;
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

    /// <summary>How many of the components the state has routed through at least once ("components 31/56 seen").</summary>
    public override string DescribeExploration(int state, in TabularChoice choice)
    {
        // A component's variance leaves the prior's only through a routed chain that holds it (the inverse starts diagonal,
        // and an update couples only the components of the chain learned), so a changed diagonal entry is a component seen.
        var a = inverse[state];
        var seen = 0;
        for (var i = 0; i < components.Count; i++)
        {
            if (a[i, i] != priorVariance)
                seen++;
        }
        return $"components {seen}/{components.Count} seen";
    }

    public override LearnerState Save(IReadOnlyList<string> states, IReadOnlyList<string> actions) => new(0, null, null, Snapshot());

    public override void Restore(LearnerState saved, IReadOnlyList<string> states) =>
        Restore(saved.Composed ?? throw new RoutingInputException($"The saved {Algorithm} coordinator has no posterior (inverse, targets, means, pulls)."));

    /// <summary>Everything the learner learned, copied: restoring it gives the same choices and values, bit for bit.</summary>
    public ComposedSnapshot Snapshot() => new(
        components.Labels.ToArray(),
        inverse.Select(a => Enumerable.Range(0, components.Count).Select(i => Enumerable.Range(0, components.Count).Select(j => a[i, j]).ToArray()).ToArray()).ToArray(),
        targets.Select(t => t.ToArray()).ToArray(),
        means.Select(m => m.ToArray()).ToArray(),
        statePulls.ToArray());

    public void Restore(ComposedSnapshot snapshot)
    {
        var d = components.Count;
        var states = statePulls.Length;
        if (snapshot.Components is null || !snapshot.Components.SequenceEqual(components.Labels))
            throw new RoutingInputException($"The saved composed learner's components are not this run's {d} (its chains or withPairs differ).");
        static bool Finite(double[]? row, int length) => row is not null && row.Length == length && row.All(double.IsFinite);
        if (snapshot.Inverse is null || snapshot.Inverse.Length != states || snapshot.Inverse.Any(m => m is null || m.Length != d || m.Any(r => !Finite(r, d)))
            || snapshot.Targets is null || snapshot.Targets.Length != states || snapshot.Targets.Any(t => !Finite(t, d))
            || snapshot.Means is null || snapshot.Means.Length != states || snapshot.Means.Any(m => !Finite(m, d))
            || snapshot.StatePulls is null || snapshot.StatePulls.Length != states || snapshot.StatePulls.Any(n => n < 0))
            throw new RoutingInputException($"The saved composed learner needs, per each of {states} states, a {d} x {d} inverse, {d} targets and {d} means of finite numbers, and a non-negative pull count.");
        for (var s = 0; s < states; s++)
        {
            for (var i = 0; i < d; i++)
            {
                for (var j = 0; j < d; j++)
                    inverse[s][i, j] = snapshot.Inverse[s][i][j];
            }
            snapshot.Targets[s].CopyTo(targets[s], 0);
            snapshot.Means[s].CopyTo(means[s], 0);
            statePulls[s] = snapshot.StatePulls[s];
        }
    }

    public override SavedTable SaveTable(IReadOnlyList<string> states, IReadOnlyList<string> actions, string coordinator)
    {
        var json = ComposedTableDocument.ToJson(new ComposedTableDocument(actions.ToArray(), states.ToArray(),
            Enumerable.Range(0, StateCount).Select(s => Enumerable.Range(0, ActionCount).Select(a => Value(s, a)).ToArray()).ToArray(), coordinator, Algorithm, Settings, Snapshot()));
        var csv = new System.Text.StringBuilder("state,action,mean,width\n");
        for (var s = 0; s < StateCount; s++)
        {
            for (var a = 0; a < ActionCount; a++)
                csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{states[s]},{actions[a]},{Value(s, a).ToString("R", System.Globalization.CultureInfo.InvariantCulture)},{Width(s, a).ToString("R", System.Globalization.CultureInfo.InvariantCulture)}\n");
        }
        return new SavedTable(ComposedTableDocument.FileName, json, ComposedTableDocument.CsvFileName, csv.ToString());
    }
}
