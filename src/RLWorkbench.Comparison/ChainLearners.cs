using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;

namespace RLWorkbench.Comparison;

/// <summary>The chain learners' and chain baselines' settings (the comparison's <c>chainLearners</c> section).</summary>
public sealed record ChainLearnerOptions
{
    /// <summary>The chain the <c>longest-chain</c> baseline always routes to; it must be one of the problem's chains.</summary>
    public string LongestChain { get; init; } = "researcher/openai>analyst/openai>validator/openai";

    /// <summary>
    /// The composed learner's prior standard deviation of each component: 1 is the whole reward range, so the prior says
    /// little and the data decide.
    /// </summary>
    public double ComposedPriorSd { get; init; } = ComposedLearnerOptions.DefaultPriorSd;

    /// <summary>
    /// The reward noise (standard deviation) the composed learner assumes, as Thompson sampling's 0.1 does: the simulated
    /// rewards spread about 0.03 to 0.06, so 0.1 errs on the side of exploring.
    /// </summary>
    public double ComposedNoise { get; init; } = ComposedLearnerOptions.DefaultNoise;

    /// <summary>The composed learner's multiplier on its optimism bonus (posterior standard deviations times sqrt(2 ln n)).</summary>
    public double ComposedExploration { get; init; } = ComposedLearnerOptions.DefaultExploration;

    /// <summary>
    /// Pseudo-pulls the pairwise collaboration table's prediction counts for in a chain's mean (the <c>-pairs</c> bandits):
    /// an untried chain starts from its prediction with this weight instead of being forced to be tried.
    /// </summary>
    public double PairPriorPulls { get; init; } = 1.0;

    /// <summary>Tasks over which the state-augmented learners count how often each collaboration signal was seen (their policy's mixture weights).</summary>
    public int SignalWindow { get; init; } = 256;

    /// <summary>Returns what is wrong with these settings as one sentence, or null.</summary>
    public string? Problem()
    {
        if (!(ComposedPriorSd > 0) || !double.IsFinite(ComposedPriorSd))
            return $"chainLearners.composedPriorSd must be a positive number, got {ComposedPriorSd}.";
        if (!(ComposedNoise > 0) || !double.IsFinite(ComposedNoise))
            return $"chainLearners.composedNoise must be a positive number, got {ComposedNoise}.";
        if (!(ComposedExploration >= 0) || !double.IsFinite(ComposedExploration))
            return $"chainLearners.composedExploration must be non-negative, got {ComposedExploration}.";
        if (!(PairPriorPulls > 0) || !double.IsFinite(PairPriorPulls))
            return $"chainLearners.pairPriorPulls must be a positive number, got {PairPriorPulls}.";
        if (SignalWindow is < 1 or > 1_000_000)
            return $"chainLearners.signalWindow must be between 1 and 1,000,000 tasks, got {SignalWindow}.";
        if (string.IsNullOrWhiteSpace(LongestChain))
            return "chainLearners.longestChain must name a chain, for example researcher/openai>analyst/openai>validator/openai.";
        return null;
    }
}

/// <summary>
/// UCB1 or Thompson sampling over the enumerated chains, one arm per (state, chain): the routing module's
/// <see cref="SampleMeanBandit"/> unchanged, so over single steps it is exactly <c>ucb1</c> / <c>thompson</c>.
/// With a <see cref="PairTable"/> (the <c>-pairs</c> variants) the arm's mean and width start from the table's prediction
/// for the chain, counted as <see cref="ChainLearnerOptions.PairPriorPulls"/> pseudo-pulls, so an untried chain is no longer
/// tried unconditionally: one whose agent pairs have gone badly elsewhere waits until its optimism overtakes the leaders.
/// </summary>
public sealed class ChainBanditLearner : IRoutingLearner
{
    private readonly IReadOnlyList<RoutingChain> chains;
    private readonly PairTable? pairs;
    private readonly double priorPulls;

    public ChainBanditLearner(int states, IReadOnlyList<RoutingChain> chains, string algorithm, BanditOptions options, IRandomSource random,
        PairTable? pairs = null, double priorPulls = 1.0)
    {
        this.chains = chains;
        this.pairs = pairs;
        this.priorPulls = priorPulls;
        Bandit = SampleMeanBandit.Create(algorithm, states, chains.Count, options, random);
    }

    public SampleMeanBandit Bandit { get; }

    public long LearnedParameters => Bandit.LearnedParameters + (pairs?.LearnedParameters ?? 0);

    public int Choose(in RoutingContext context) => pairs is null ? Bandit.Choose(context.State) : ChooseWithPrior(context.State);

    public void Learn(in RoutingContext context, in RoutedTask outcome)
    {
        Bandit.Record(context.State, outcome.Action, outcome.AdjustedReward);
        pairs?.Record(context.State, chains[outcome.Action], outcome.AdjustedReward);
    }

    /// <summary>The best sample mean per state (first on ties); a state never seen keeps chain 0.</summary>
    public RoutingPolicy GreedyPolicy() =>
        new TablePolicy(Enumerable.Range(0, Bandit.StateCount).Select(s => Math.Max(Bandit.Greedy(s), 0)).ToArray());

    /// <summary>The arm's mean and pull count with the pair table's prediction blended in as pseudo-pulls.</summary>
    public (double Mean, double Pulls) PriorBlended(int state, int chain)
    {
        var table = pairs ?? throw new InvalidOperationException("This learner keeps no pair table.");
        var n = Bandit.Counts[state, chain];
        var pulls = n + priorPulls;
        return ((Bandit.Sums[state, chain] + priorPulls * table.Predict(state, chains[chain])) / pulls, pulls);
    }

    private int ChooseWithPrior(int state)
    {
        // ln(n + 1): the very first task has a zero bonus everywhere, so it goes to the best prediction (the first on ties).
        var logPulls = Math.Log(Bandit.StatePulls[state] + 1.0);
        var best = 0;
        var bestScore = double.NegativeInfinity;
        for (var c = 0; c < chains.Count; c++)
        {
            var (mean, pulls) = PriorBlended(state, c);
            var score = Bandit.Score(mean, pulls, logPulls);
            if (score > bestScore)
            {
                best = c;
                bestScore = score;
            }
        }
        return best;
    }
}

/// <summary>
/// A single-step learner on a chain problem: it sees only the problem's single (agent, provider) steps, as the seed's
/// routing did, so it converges to the best single agent per type. Its action i is the problem's chain Steps[i].
/// </summary>
public sealed class SingleStepLearner : IRoutingLearner
{
    private readonly IRoutingLearner inner;
    private readonly int[] chainOf;
    private readonly Dictionary<int, int> stepOf;

    public SingleStepLearner(RoutingProblem problem, Func<RoutingProblem, IRoutingLearner> create, string name)
    {
        chainOf = Enumerable.Range(0, problem.ActionCount).Where(c => problem.Chains[c].Length == 1).ToArray();
        if (chainOf.Length < 2)
            throw new ComparisonInputException($"The single-agent learner '{name}' needs at least two single (agent, provider) steps among the problem's chains; this problem offers {chainOf.Length}, so allow single steps or leave '{name}' out.");
        stepOf = chainOf.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
        SingleSteps = new RoutingProblem(problem.Bank, problem.Profile, problem.Prices, problem.Providers, problem.Judge, problem.Reward, problem.Load,
            problem.LoadBalanced, chainOf.Select(c => problem.Chains[c].First).ToArray());
        inner = create(SingleSteps);
    }

    /// <summary>The problem the inner learner sees: the same tasks, only the single steps.</summary>
    public RoutingProblem SingleSteps { get; }

    public long LearnedParameters => inner.LearnedParameters;

    public int Choose(in RoutingContext context) => chainOf[inner.Choose(context)];

    public void Learn(in RoutingContext context, in RoutedTask outcome) => inner.Learn(context, outcome with { Action = stepOf[outcome.Action] });

    public RoutingPolicy GreedyPolicy() => inner.GreedyPolicy() switch
    {
        TablePolicy table => new TablePolicy(table.ActionPerState.Select(a => chainOf[a]).ToArray()),
        CyclicPolicy cycle => new CyclicPolicy(cycle.Sequence.Select(a => chainOf[a]).ToArray()),
        UniformPolicy => new MixturePolicy(Enumerable.Range(0, RoutingProblem.TypeCount)
            .Select(_ => chainOf.ToDictionary(c => c, _ => 1.0 / chainOf.Length)).ToArray()),
        var other => throw new InvalidOperationException($"A single-step learner's {other.GetType().Name} has no chain reading."),
    };
}

/// <summary>Always the same chain, whatever the task: the <c>longest-chain</c> baseline ("more agents is better").</summary>
public sealed class FixedChainRouter : IRoutingLearner
{
    private readonly int chain;
    private readonly int states;

    public FixedChainRouter(RoutingProblem problem, string label)
    {
        RoutingChain wanted;
        try
        {
            wanted = RoutingChain.Parse(label);
        }
        catch (RoutingInputException e)
        {
            throw new ComparisonInputException($"chainLearners.longestChain: {e.Message}");
        }
        chain = Enumerable.Range(0, problem.ActionCount).FirstOrDefault(c => problem.Chains[c].Equals(wanted), -1);
        if (chain < 0)
            throw new ComparisonInputException($"The longest-chain baseline's chain '{wanted.Label}' is not among the problem's {problem.ActionCount} chains; set chainLearners.longestChain to one it offers.");
        states = problem.StateCount;
    }

    public int Chain => chain;

    public long LearnedParameters => 0;

    public int Choose(in RoutingContext context) => chain;

    public void Learn(in RoutingContext context, in RoutedTask outcome)
    {
    }

    public RoutingPolicy GreedyPolicy() => new TablePolicy(Enumerable.Repeat(chain, states).ToArray());
}

/// <summary>
/// The best single (agent, provider) step per task type by the exact model: where the seed's single-agent routing converges
/// when it converges, so the chain learners are measured against what not chaining at all would give.
/// </summary>
public sealed class BestSingleRouter : IRoutingLearner
{
    private readonly int[] table;

    public BestSingleRouter(RoutingProblem problem, ExactRewardModel model)
    {
        var singles = Enumerable.Range(0, problem.ActionCount).Where(c => problem.Chains[c].Length == 1).ToArray();
        if (singles.Length == 0)
            throw new ComparisonInputException("The best-single baseline needs single (agent, provider) steps among the problem's chains; this problem offers none.");
        table = new int[problem.StateCount];
        for (var s = 0; s < table.Length; s++)
        {
            var type = problem.StateParts(s).Type;
            var best = singles[0];
            foreach (var c in singles)
            {
                if (model.Expected(type, c) > model.Expected(type, best))
                    best = c;
            }
            table[s] = best;
        }
    }

    public long LearnedParameters => 0;

    public int Choose(in RoutingContext context) => table[context.State];

    public void Learn(in RoutingContext context, in RoutedTask outcome)
    {
    }

    public RoutingPolicy GreedyPolicy() => new TablePolicy((int[])table.Clone());
}

/// <summary>What the chain learners need of the problem, checked before a comparison writes anything.</summary>
public static class ChainLearnerChecks
{
    /// <summary>The first learner that cannot run on this problem, as one sentence naming it, or null.</summary>
    public static string? Problem(ComparisonOptions options, RoutingProblem problem)
    {
        var singles = problem.Chains.Count(c => c.Length == 1);
        foreach (var name in options.Learners)
        {
            if (LearnerNames.Chain.Contains(name) && problem.LoadBalanced)
                return $"The chain learner '{name}' routes the base problem (state = task type); leave it out of the load-balanced problem.";
            if (problem.RoutesChains && LearnerNames.IsSingleStep(name) && singles < 2)
                return $"The single-agent learner '{name}' needs at least two single (agent, provider) steps among the problem's chains; this problem offers {singles}, so allow single steps or leave '{name}' out.";
            if (name == LearnerNames.BestSingle && singles == 0)
                return "The best-single baseline needs single (agent, provider) steps among the problem's chains; this problem offers none.";
            if (name == LearnerNames.LongestChain)
            {
                try
                {
                    _ = new FixedChainRouter(problem, options.ChainLearners.LongestChain);
                }
                catch (ComparisonInputException e)
                {
                    return e.Message;
                }
            }
        }
        return null;
    }
}
