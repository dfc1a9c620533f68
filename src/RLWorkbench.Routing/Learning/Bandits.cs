using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Learning;

/// <summary>
/// How a coordinator turns rewards into routing: the seed's Q-learning, or a contextual bandit on per-(state, action)
/// sample means, or the composed chain learner (per-step values that compose, shared across chains). The names are what
/// `qlearn --learner` and the run's config.json take.
/// </summary>
public static class RoutingAlgorithms
{
    public const string QLearning = "q-learning";
    public const string Ucb1 = "ucb1";
    public const string Thompson = "thompson";
    public const string Composed = "composed";

    public static IReadOnlyList<string> All { get; } = [QLearning, Ucb1, Thompson, Composed];

    public static bool IsBandit(string name) => name is Ucb1 or Thompson;

    /// <summary>The one sentence an unknown name gets, wherever it was typed.</summary>
    public static string Unknown(string name) => $"Unknown learner '{name}'; the learners are {QLearning}, {Ucb1}, {Thompson} and {Composed}.";
}

/// <summary>The bandit learners' settings (shared by `qlearn --learner` and `compare`).</summary>
public sealed record BanditOptions
{
    /// <summary>UCB1's multiplier on sqrt(2 ln n / n_a); 1 is the textbook value for rewards in [0, 1].</summary>
    public double UcbExploration { get; init; } = 1.0;

    /// <summary>Thompson sampling's assumed reward noise (standard deviation); the simulated rewards spread about 0.03 to 0.06.</summary>
    public double ThompsonNoise { get; init; } = 0.1;

    /// <summary>Returns what is wrong with these settings as one sentence, or null.</summary>
    public string? Problem() =>
        UcbExploration < 0 || !(ThompsonNoise > 0) || !double.IsFinite(UcbExploration) || !double.IsFinite(ThompsonNoise)
            ? "UCB1's exploration must be non-negative and Thompson sampling's noise positive."
            : null;
}

/// <summary>A bandit's pull counts and reward sums, as saved in a qlearn checkpoint (row per state, column per action).</summary>
public sealed record SampleMeanSnapshot(string Algorithm, long[][] Counts, double[][] Sums);

/// <summary>
/// Per-(state, action) pull counts and reward sums, the arithmetic both bandit learners share. Routing one independent
/// task is a bandit problem: the next task does not depend on this one's action, so a sample mean per (state, action) is
/// an unbiased estimate of what routing there earns, with no discount, step size or initial value to tune.
/// This is the one implementation: `qlearn --learner ucb1|thompson` and `compare` both use it.
/// </summary>
public abstract class SampleMeanBandit
{
    protected SampleMeanBandit(int states, int actions)
    {
        if (states < 1 || actions < 1)
            throw new RoutingInputException($"A bandit needs at least one state and one action, not {states} x {actions}.");
        Counts = new long[states, actions];
        Sums = new double[states, actions];
        StatePulls = new long[states];
    }

    public abstract string Algorithm { get; }

    public int StateCount => Counts.GetLength(0);

    public int ActionCount => Counts.GetLength(1);

    public long[,] Counts { get; }

    public double[,] Sums { get; }

    public long[] StatePulls { get; }

    /// <summary>Counts and sums per (state, action).</summary>
    public long LearnedParameters => 2L * StateCount * ActionCount;

    public double Mean(int state, int action) => Counts[state, action] == 0 ? double.NaN : Sums[state, action] / Counts[state, action];

    public int Choose(int state)
    {
        // Every action of a state is tried once, in index order, before any index is computed.
        for (var a = 0; a < ActionCount; a++)
        {
            if (Counts[state, a] == 0)
                return a;
        }
        return ChooseAmongTried(state);
    }

    protected abstract int ChooseAmongTried(int state);

    /// <summary>
    /// The value an arm is chosen by, from a mean, a pull count and the log of the state's pulls: UCB1's index or Thompson
    /// sampling's draw (one standard normal per call). A learner that blends a prior into the mean and the count (the
    /// chain learners' pair table) chooses by the same rule.
    /// </summary>
    public abstract double Score(double mean, double pulls, double logStatePulls);

    public void Record(int state, int action, double reward)
    {
        Counts[state, action]++;
        Sums[state, action] += reward;
        StatePulls[state]++;
    }

    /// <summary>The best sample mean of the state (first on ties), or -1 if nothing was tried there.</summary>
    public int Greedy(int state)
    {
        var best = -1;
        for (var a = 0; a < ActionCount; a++)
        {
            if (Counts[state, a] > 0 && (best < 0 || Mean(state, a) > Mean(state, best)))
                best = a;
        }
        return best;
    }

    public SampleMeanSnapshot Snapshot() => new(
        Algorithm,
        Enumerable.Range(0, StateCount).Select(s => Enumerable.Range(0, ActionCount).Select(a => Counts[s, a]).ToArray()).ToArray(),
        Enumerable.Range(0, StateCount).Select(s => Enumerable.Range(0, ActionCount).Select(a => Sums[s, a]).ToArray()).ToArray());

    public void Restore(SampleMeanSnapshot snapshot)
    {
        if (snapshot.Algorithm != Algorithm)
            throw new RoutingInputException($"The saved bandit is '{snapshot.Algorithm}', not '{Algorithm}'.");
        if (snapshot.Counts is null || snapshot.Sums is null || snapshot.Counts.Length != StateCount || snapshot.Sums.Length != StateCount
            || snapshot.Counts.Any(r => r is null || r.Length != ActionCount || r.Any(c => c < 0))
            || snapshot.Sums.Any(r => r is null || r.Length != ActionCount || r.Any(v => !double.IsFinite(v))))
            throw new RoutingInputException($"The saved bandit needs {StateCount} rows of {ActionCount} non-negative counts and finite sums.");
        for (var s = 0; s < StateCount; s++)
        {
            StatePulls[s] = 0;
            for (var a = 0; a < ActionCount; a++)
            {
                Counts[s, a] = snapshot.Counts[s][a];
                Sums[s, a] = snapshot.Sums[s][a];
                StatePulls[s] += Counts[s, a];
            }
        }
    }

    public static SampleMeanBandit Create(string algorithm, int states, int actions, BanditOptions options, IRandomSource random) => algorithm switch
    {
        RoutingAlgorithms.Ucb1 => new Ucb1Bandit(states, actions, options.UcbExploration),
        RoutingAlgorithms.Thompson => new ThompsonBandit(states, actions, options.ThompsonNoise, random),
        _ => throw new RoutingInputException(RoutingAlgorithms.Unknown(algorithm)),
    };
}

/// <summary>UCB1: the sample mean plus c x sqrt(2 ln n_state / n_action), c = 1 for rewards in [0, 1]; first index on ties.</summary>
public sealed class Ucb1Bandit(int states, int actions, double exploration) : SampleMeanBandit(states, actions)
{
    public override string Algorithm => RoutingAlgorithms.Ucb1;

    public double Index(int state, int action) => Score(Mean(state, action), Counts[state, action], Math.Log(StatePulls[state]));

    public override double Score(double mean, double pulls, double logStatePulls) => mean + exploration * Math.Sqrt(2.0 * logStatePulls / pulls);

    protected override int ChooseAmongTried(int state)
    {
        var best = 0;
        for (var a = 1; a < ActionCount; a++)
        {
            if (Index(state, a) > Index(state, best))
                best = a;
        }
        return best;
    }
}

/// <summary>
/// Gaussian Thompson sampling with a known noise scale and a flat prior: each tried action's value is drawn from
/// N(sample mean, noise^2 / pulls), one standard normal per action in index order, and the largest draw is routed to.
/// </summary>
public sealed class ThompsonBandit(int states, int actions, double noise, IRandomSource random) : SampleMeanBandit(states, actions)
{
    public override string Algorithm => RoutingAlgorithms.Thompson;

    protected override int ChooseAmongTried(int state)
    {
        var best = 0;
        var bestDraw = double.NegativeInfinity;
        for (var a = 0; a < ActionCount; a++)
        {
            var draw = Score(Mean(state, a), Counts[state, a], 0);
            if (draw > bestDraw)
            {
                best = a;
                bestDraw = draw;
            }
        }
        return best;
    }

    /// <summary>N(mean, noise^2 / pulls); the state's pulls do not enter.</summary>
    public override double Score(double mean, double pulls, double logStatePulls) => mean + noise / Math.Sqrt(pulls) * StandardNormal(random);

    /// <summary>Box-Muller from two uniform draws (1 - u keeps the logarithm finite).</summary>
    public static double StandardNormal(IRandomSource random)
    {
        var u1 = 1.0 - random.Random();
        var u2 = random.Random();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}

/// <summary>
/// A sample-mean bandit (UCB1 or Thompson sampling) as a tabular learner: it learns the reward it is given, never
/// bootstraps and decays nothing. Its saved table is its own document (<see cref="BanditTableDocument"/>): counts and sums,
/// from which route continues learning exactly.
/// </summary>
public sealed class SampleMeanLearner(SampleMeanBandit bandit) : TabularLearner(bandit.StateCount, bandit.ActionCount)
{
    public SampleMeanBandit Bandit { get; } = bandit;

    public override string Algorithm => Bandit.Algorithm;

    public override long LearnedParameters => Bandit.LearnedParameters;

    /// <summary>"Explored" means the choice is not the best sample mean (or nothing was tried in the state yet).</summary>
    public override TabularChoice Choose(int state, double? epsilonOverride = null)
    {
        var greedy = Bandit.Greedy(state);
        var chosen = epsilonOverride == 0 ? Greedy(state) : Bandit.Choose(state);
        return new TabularChoice(chosen, chosen != greedy, 0);
    }

    /// <summary>The best sample mean (first on ties); a state never tried routes to action 0.</summary>
    public override int Greedy(int state) => Math.Max(Bandit.Greedy(state), 0);

    public override double Value(int state, int action) => Bandit.Counts[state, action] == 0 ? 0 : Bandit.Mean(state, action);

    public override void Learn(int state, int action, double reward, int nextState) => Bandit.Record(state, action, reward);

    public override string DescribeExploration(int state, in TabularChoice choice) =>
        $"tried {Enumerable.Range(0, ActionCount).Count(a => Bandit.Counts[state, a] > 0)}/{ActionCount}";

    public override LearnerState Save(IReadOnlyList<string> states, IReadOnlyList<string> actions) => new(0, null, Bandit.Snapshot());

    public override void Restore(LearnerState saved, IReadOnlyList<string> states) =>
        Bandit.Restore(saved.Bandit ?? throw new RoutingInputException($"The saved {Algorithm} coordinator has no counts and sums."));

    public override SavedTable SaveTable(IReadOnlyList<string> states, IReadOnlyList<string> actions, string coordinator)
    {
        var snapshot = Bandit.Snapshot();
        var json = BanditTableDocument.ToJson(new BanditTableDocument(actions.ToArray(), states.ToArray(), snapshot.Counts, snapshot.Sums, coordinator, Algorithm));
        var csv = new System.Text.StringBuilder("state,action,count,sum,mean\n");
        for (var s = 0; s < StateCount; s++)
        {
            for (var a = 0; a < ActionCount; a++)
            {
                var mean = Bandit.Counts[s, a] == 0 ? "" : Bandit.Mean(s, a).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
                csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{states[s]},{actions[a]},{Bandit.Counts[s, a]},{Bandit.Sums[s, a].ToString("R", System.Globalization.CultureInfo.InvariantCulture)},{mean}\n");
            }
        }
        return new SavedTable(BanditTableDocument.FileName, json, BanditTableDocument.CsvFileName, csv.ToString());
    }
}
