using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Comparison;

/// <summary>
/// The expected reward of every (task type, action) computed from the simulation profile, without sampling. It follows the
/// simulated backend's generative process step by step:
/// <list type="bullet">
/// <item>each judge score is round(clip(N(mean, sd), 0, 1), 2), so its law is a 101-point distribution taken from the normal
/// CDF; quality is the mean of four independent scores, a 401-point distribution by convolution; with the profile's judge
/// format-error rate the verdict is instead the 0.5 fallback;</item>
/// <item>output tokens are clamp(round(N), 16, max output tokens): a distribution over whole numbers, and the cost term
/// 0.10 x min(cost / 0.002, 1) is a function of them through the price table;</item>
/// <item>latency is max(0.1, N), so the latency term is a clipped normal with closed-form moments.</item>
/// </list>
/// The reward max(0, Q - C - L - penalty) is not separable because of the outer clip, so it is written as
/// E[Q] - E[C] - E[L] - penalty + E[max(0, penalty + C + L - Q)]: the first four terms are exact sums and closed forms, and
/// the correction is an exact double sum over the quality and token distributions of a closed-form expectation over the
/// latency. Terms of the correction whose quality probability is below 1e-22 are skipped (an error below 1e-19).
/// The upper clip at 1 never binds because quality is at most 1 and the cost and latency terms are non-negative.
/// On a chain problem the single steps are still exactly this; a chain of two or more steps is a <see cref="ChainRewardEstimate"/>
/// (exact in the judge's scores, sampled in the summed cost and latency) with its standard error.
/// </summary>
public sealed class ExactRewardModel
{
    private const double SkipBelow = 1e-22;

    /// <summary>Samples per (task, chain) of the chain estimate when the caller names none: a standard error near 1e-4 on the default problems.</summary>
    public const int DefaultChainSamples = 10_000;

    private readonly RoutingProblem problem;
    private readonly ActionRewardLaw?[][] laws;
    private readonly ChainRewardEstimate?[][] chains;
    private readonly int[][] tasksOfType;
    private readonly Dictionary<(int Type, int Action, double Penalty), double> memo = [];

    /// <summary>
    /// Single steps are exact as described above. A chain of two or more steps is <see cref="ChainRewardEstimate"/>: exact in the
    /// judge's scores, sampled (<paramref name="chainSamples"/> draws per task, seeded by <paramref name="chainSeed"/>) in the
    /// summed cost and latency, with a standard error (<see cref="StandardError"/>, <see cref="Precision"/>).
    /// </summary>
    public ExactRewardModel(RoutingProblem problem, int chainSamples = DefaultChainSamples, long chainSeed = 20_240_613)
    {
        this.problem = problem;
        var qualityByKey = new Dictionary<(AgentRole, Provider, TaskType), double[]>();
        var normals = problem.RoutesChains ? new ChainNormals(chainSamples, chainSeed) : null;
        laws = new ActionRewardLaw?[problem.Bank.Count][];
        chains = new ChainRewardEstimate?[problem.Bank.Count][];
        for (var t = 0; t < problem.Bank.Count; t++)
        {
            var task = problem.Bank[t];
            laws[t] = new ActionRewardLaw?[problem.ActionCount];
            chains[t] = new ChainRewardEstimate?[problem.ActionCount];
            for (var a = 0; a < problem.ActionCount; a++)
            {
                var chain = problem.Chains[a];
                if (chain.Length > 1)
                {
                    chains[t][a] = new ChainRewardEstimate(problem, task, chain, normals!);
                    continue;
                }
                var action = chain.First;
                var key = (action.Agent, action.Provider, task.Type);
                if (!qualityByKey.TryGetValue(key, out var quality))
                    qualityByKey[key] = quality = QualityLaw(problem.Profile.Scores(action.Agent, action.Provider, task.Type));
                laws[t][a] = new ActionRewardLaw(problem, task, action, quality);
            }
        }
        tasksOfType = RoutingNames.TaskTypes.Select(type => Enumerable.Range(0, problem.Bank.Count).Where(i => problem.Bank[i].Type == type).ToArray()).ToArray();
        Precision = Enumerable.Range(0, RoutingProblem.TypeCount).Where(Occurs)
            .SelectMany(type => Enumerable.Range(0, problem.ActionCount).Select(a => StandardError(type, a)))
            .DefaultIfEmpty(0).Max();
    }

    public RoutingProblem Problem => problem;

    /// <summary>The largest standard error of any (task type, action) value: 0 when every action is a single step (all exact).</summary>
    public double Precision { get; }

    /// <summary>E[reward | a task of this type, this action, a load penalty], averaged over the bank's tasks of the type (they are equally likely).</summary>
    public double Expected(int typeIndex, int action, double penalty = 0.0)
    {
        if (memo.TryGetValue((typeIndex, action, penalty), out var value))
            return value;
        var tasks = tasksOfType[typeIndex];
        value = tasks.Length == 0 ? 0.0 : tasks.Average(t => ExpectedForTask(t, action, penalty));
        memo[(typeIndex, action, penalty)] = value;
        return value;
    }

    public double ExpectedForTask(int taskIndex, int action, double penalty = 0.0)
    {
        if (laws[taskIndex][action] is { } law)
            return problem.Weights is { } weights ? law.ExpectedWeighted(weights, penalty) : law.Expected(penalty);
        // Chains are routed on the base problem only (RoutingProblem rejects them with a load penalty).
        if (penalty != 0)
            throw new InvalidOperationException("A chain's value is estimated without a load penalty; chains are not routed on the load-balanced problem.");
        return chains[taskIndex][action]!.Mean;
    }

    /// <summary>The standard error of <see cref="Expected"/> for this type and action: 0 for a single step (exact).</summary>
    public double StandardError(int typeIndex, int action)
    {
        var tasks = tasksOfType[typeIndex];
        if (tasks.Length == 0 || problem.Chains[action].Length == 1)
            return 0;
        return Math.Sqrt(tasks.Sum(t => chains[t][action]!.StandardError * chains[t][action]!.StandardError)) / tasks.Length;
    }

    /// <summary>E[the agent calls' cost in USD | a task of this type, this action] (exact; the judge's calls are the cost of measuring, not of the choice).</summary>
    public double ExpectedCostUsd(int typeIndex, int action)
    {
        var tasks = tasksOfType[typeIndex];
        return tasks.Length == 0 ? 0.0 : tasks.Average(t => laws[t][action]?.ExpectedCostUsd ?? chains[t][action]!.ExpectedAgentCostUsd);
    }

    /// <summary>E[the judge's quality | a task of this type, this single-step action] (exact; the same for every task of the type).</summary>
    public double ExpectedQuality(int typeIndex, int action) =>
        tasksOfType[typeIndex].Length == 0 ? 0.0 : SingleStep(tasksOfType[typeIndex][0], action).MeanQuality;

    /// <summary>E[the agent call's cost in USD | this task of the bank, this single-step action] (exact).</summary>
    public double ExpectedCostUsdForTask(int taskIndex, int action) => SingleStep(taskIndex, action).ExpectedCostUsd;

    /// <summary>The simulated latency of this single-step action's agent call, max(0.1, N(mean, sd)) in seconds, as its normal N.</summary>
    public NormalVariable LatencyOf(int action) => SingleStep(0, action).Latency;

    /// <summary>The clip below which the simulated backend never reports a latency.</summary>
    public const double MinLatencySeconds = 0.1;

    private ActionRewardLaw SingleStep(int taskIndex, int action) =>
        laws[taskIndex][action] ?? throw new InvalidOperationException("Quality, cost and latency laws are exact for single steps only; this action is a chain.");

    /// <summary>Whether the bank has tasks of this type (a type without tasks never occurs, so its row does not count).</summary>
    public bool Occurs(int typeIndex) => tasksOfType[typeIndex].Length > 0;

    /// <summary>The best action per task type when there is no load penalty (first on ties).</summary>
    public int BestAction(int typeIndex, double penalty = 0.0)
    {
        var best = 0;
        for (var a = 1; a < problem.ActionCount; a++)
        {
            if (Expected(typeIndex, a, penalty) > Expected(typeIndex, best, penalty))
                best = a;
        }
        return best;
    }

    /// <summary>The law of the mean of four rounded, clipped normal scores, on the grid k / 400.</summary>
    internal static double[] QualityLaw(ScoreProfile scores)
    {
        var law = new double[] { 1.0 };
        foreach (var d in new[] { scores.Relevance, scores.Accuracy, scores.Completeness, scores.AgentMatch })
        {
            var score = ScoreLaw(new NormalVariable(d.Mean, d.Spread));
            var next = new double[law.Length + score.Length - 1];
            for (var i = 0; i < law.Length; i++)
            {
                if (law[i] == 0)
                    continue;
                for (var j = 0; j < score.Length; j++)
                    next[i + j] += law[i] * score[j];
            }
            law = next;
        }
        return law;
    }

    /// <summary>P(round(clip(X, 0, 1), 2) = j / 100) for j = 0..100: the clipped tails fall on 0 and 1.</summary>
    internal static double[] ScoreLaw(NormalVariable x)
    {
        var law = new double[101];
        for (var j = 0; j <= 100; j++)
        {
            var low = j == 0 ? double.NegativeInfinity : (j - 0.5) / 100.0;
            var high = j == 100 ? double.PositiveInfinity : (j + 0.5) / 100.0;
            law[j] = TokenLaw.Between(x, low, high);
        }
        return law;
    }

    /// <summary>Everything random about one (task, action): quality, the cost term by output tokens, the latency term.</summary>
    private sealed class ActionRewardLaw
    {
        private readonly double[] quality;
        private readonly double formatErrorRate;
        private readonly double[] costTerm;
        private readonly double[] costProbability;
        private readonly NormalVariable latency;
        private readonly double latencyFactor;
        private readonly double latencyLow;
        private readonly double latencyHigh;
        private readonly double latencyWeight;
        private readonly double meanQuality;
        private readonly double meanCost;
        private readonly double meanLatency;
        private readonly double maxCostTerm;
        private readonly Dictionary<double, double> byPenalty = [];

        public ActionRewardLaw(RoutingProblem problem, RoutingTask task, RoutingAction action, double[] quality)
        {
            this.quality = quality;
            formatErrorRate = problem.Profile.JudgeFormatErrorRate;
            var reward = problem.Reward;
            var behaviour = problem.Profile.Providers[action.Provider];
            var settings = problem.Providers[action.Provider];

            // Input tokens are what the simulated backend counts: about four characters a token over both messages.
            var input = SimulatedChatClient.EstimateTokens(AgentPrompts.SystemPrompt(action.Agent)) + SimulatedChatClient.EstimateTokens(AgentPrompts.UserMessage(task));
            var tokens = TokenLaw.Of(new NormalVariable(behaviour.OutputTokens.Mean, behaviour.OutputTokens.Spread), settings.MaxOutputTokens);
            var count = tokens.Count;
            costTerm = new double[count];
            costProbability = tokens.Probability;
            ExpectedCostUsd = 0;
            for (var i = 0; i < count; i++)
            {
                var cost = problem.Prices.Cost(settings.Model, input, tokens.Low + i);
                costTerm[i] = reward.CostWeight * Math.Min(cost / reward.CostScaleUsd, 1.0);
                ExpectedCostUsd += costProbability[i] * cost;
            }

            latency = new NormalVariable(behaviour.LatencySeconds.Mean, behaviour.LatencySeconds.Spread);
            // E[max(0.1, X)]: the clip's mass at 0.1 plus the partial mean above it.
            MeanLatencySeconds = latency.IsConstant
                ? Math.Max(MinLatencySeconds, latency.Mean)
                : MinLatencySeconds * latency.Cdf(MinLatencySeconds) + latency.Mean * latency.Survival(MinLatencySeconds) + latency.Spread * latency.Spread * latency.Density(MinLatencySeconds);
            latencyWeight = reward.LatencyWeight;
            latencyLow = 0.1;
            latencyHigh = reward.LatencyScaleSeconds;
            latencyFactor = reward.LatencyWeight / reward.LatencyScaleSeconds;

            double q = 0;
            for (var k = 0; k < quality.Length; k++)
                q += quality[k] * (k / 400.0);
            meanQuality = (1 - formatErrorRate) * q + formatErrorRate * JudgeVerdict.Fallback;
            meanCost = 0;
            for (var i = 0; i < count; i++)
                meanCost += costProbability[i] * costTerm[i];
            maxCostTerm = costTerm.Max();
            meanLatency = latencyHigh <= latencyLow ? latencyWeight : latencyFactor * latency.ClippedMean(latencyLow, latencyHigh);
        }

        public double ExpectedCostUsd { get; }

        public double MeanQuality => meanQuality;

        public double MeanLatencySeconds { get; }

        public NormalVariable Latency => latency;

        /// <summary>E[weights' scalarisation of the reward vector]: linear and unclipped, so the expectation of each objective weighted.</summary>
        public double ExpectedWeighted(RewardWeights weights, double penalty) =>
            weights.Quality * meanQuality - weights.Cost * ExpectedCostUsd - weights.Latency * MeanLatencySeconds - weights.Fairness * penalty;

        public double Expected(double penalty)
        {
            if (byPenalty.TryGetValue(penalty, out var value))
                return value;
            var correction = formatErrorRate * Shortfall(JudgeVerdict.Fallback, penalty);
            var reach = penalty + maxCostTerm + latencyWeight;
            for (var k = 0; k < quality.Length && k / 400.0 < reach; k++)
            {
                var p = (1 - formatErrorRate) * quality[k];
                if (p < SkipBelow)
                    continue;
                correction += p * Shortfall(k / 400.0, penalty);
            }
            value = meanQuality - meanCost - meanLatency - penalty + correction;
            byPenalty[penalty] = value;
            return value;
        }

        // E[max(0, penalty + C + L - q)] for a fixed quality q, summed over the token law.
        private double Shortfall(double q, double penalty)
        {
            double sum = 0;
            for (var i = 0; i < costTerm.Length; i++)
            {
                var u = q - penalty - costTerm[i];
                if (u >= latencyWeight)
                    continue;
                sum += costProbability[i] * LatencyExcess(u);
            }
            return sum;
        }

        // E[max(0, L - u)] where L = weight x min(max(0.1, X), scale) / scale.
        private double LatencyExcess(double u)
        {
            if (latencyHigh <= latencyLow)
                return Math.Max(0, latencyWeight - u);
            if (latencyFactor == 0)
                return Math.Max(0, -u);
            if (u <= latencyFactor * latencyLow)
                return meanLatency - u;
            if (u >= latencyFactor * latencyHigh)
                return 0;
            var x0 = u / latencyFactor;
            return latencyFactor * (latency.PartialMean(x0, latencyHigh) - x0 * latency.Between(x0, latencyHigh) + (latencyHigh - x0) * latency.Survival(latencyHigh));
        }
    }
}
