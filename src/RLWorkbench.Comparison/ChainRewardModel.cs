using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Comparison;

/// <summary>
/// The law of a simulated answer's output tokens, clamp(round(N(mean, sd)), 16, max): a window of whole numbers from Low,
/// with the normal's mass beyond 40 spreads (below 1e-300) lumped into the window's ends.
/// </summary>
internal readonly record struct TokenLaw(long Low, double[] Probability)
{
    public const long MinTokens = 16;

    public static TokenLaw Of(NormalVariable tokens, long maxOutputTokens)
    {
        var maxTokens = Math.Max(MinTokens, maxOutputTokens);
        var low = tokens.IsConstant ? MinTokens : Math.Max(MinTokens, (long)Math.Floor(tokens.Mean - 40 * tokens.Spread));
        var high = tokens.IsConstant ? maxTokens : Math.Min(maxTokens, (long)Math.Ceiling(tokens.Mean + 40 * tokens.Spread));
        low = Math.Min(low, maxTokens);
        high = Math.Max(high, low);
        var probability = new double[(int)(high - low + 1)];
        for (var i = 0; i < probability.Length; i++)
        {
            var t = low + i;
            var lower = t == low ? double.NegativeInfinity : t - 0.5;
            var upper = t == high ? double.PositiveInfinity : t + 0.5;
            probability[i] = Between(tokens, lower, upper);
        }
        return new TokenLaw(low, probability);
    }

    public int Count => Probability.Length;

    public double Mean
    {
        get
        {
            double mean = 0;
            for (var i = 0; i < Probability.Length; i++)
                mean += Probability[i] * (Low + i);
            return mean;
        }
    }

    internal static double Between(NormalVariable x, double low, double high)
    {
        if (double.IsNegativeInfinity(low))
            return x.Cdf(high);
        if (double.IsPositiveInfinity(high))
            return x.Survival(low);
        return x.Between(low, high);
    }
}

/// <summary>
/// E[reward | task, chain] for a chain of two or more steps, following the simulated backend's generative process: the judge's
/// four scores are drawn from the profile's chain scores (the first step's, shifted by the chain's quality change), every step
/// draws its own output tokens and latency, a later step's input holds the previous answer (four characters a token, so exactly
/// its output tokens more), and the reward is max(0, Q - C - L) on the summed cost and latency.
/// <para>
/// The quality part is exact: Q's law is the same 401-point convolution as a single step's, mixed with the format-error
/// fallback, and g(x) = E[max(0, Q - x)] is read off its tail sums in O(1). What has no closed form is the law of C + L (a
/// clipped sum of clipped normals over the chain's steps), so it is sampled: the estimate is the mean of g(C + L) over
/// <c>samples</c> draws, with its standard error. Every chain and task uses the same standard normal draws (common random
/// numbers), so differences between chains are far more precise than each value. The expected agent cost is exact (it is
/// linear in the token counts).
/// </para>
/// </summary>
internal sealed class ChainRewardEstimate
{
    public ChainRewardEstimate(RoutingProblem problem, RoutingTask task, RoutingChain chain, ChainNormals normals)
    {
        var reward = problem.Reward;
        var quality = ExactRewardModel.QualityLaw(problem.Profile.ChainScores(chain, task.Type));
        var formatErrorRate = problem.Profile.JudgeFormatErrorRate;
        // Q on the grid k / 400, the format-error fallback 0.5 = 200 / 400 being one of its points.
        var law = new double[quality.Length];
        for (var k = 0; k < law.Length; k++)
            law[k] = (1 - formatErrorRate) * quality[k];
        law[(int)Math.Round(JudgeVerdict.Fallback * 400)] += formatErrorRate;
        // tailMass[k] = P(Q >= k / 400), tailMean[k] = E[Q; Q >= k / 400].
        var tailMass = new double[law.Length + 1];
        var tailMean = new double[law.Length + 1];
        for (var k = law.Length - 1; k >= 0; k--)
        {
            tailMass[k] = tailMass[k + 1] + law[k];
            tailMean[k] = tailMean[k + 1] + law[k] * (k / 400.0);
        }

        var steps = chain.Length;
        var input = new long[steps];
        var inputPrice = new double[steps];
        var outputPrice = new double[steps];
        var tokens = new NormalVariable[steps];
        var maxTokens = new long[steps];
        var latency = new NormalVariable[steps];
        double expectedCost = 0;
        double previousMeanTokens = 0;
        for (var k = 0; k < steps; k++)
        {
            var step = chain.Steps[k];
            var behaviour = problem.Profile.Providers[step.Provider];
            var settings = problem.Providers[step.Provider];
            var price = problem.Prices.PriceOf(settings.Model);
            var message = k == 0 ? AgentPrompts.UserMessage(task) : AgentPrompts.HandoffMessage(task, chain.Steps[k - 1].Agent, "");
            // A later step's message is the empty-answer message plus an answer of exactly 4 x tokens characters.
            input[k] = SimulatedChatClient.EstimateTokens(AgentPrompts.SystemPrompt(step.Agent)) + SimulatedChatClient.EstimateTokens(message);
            inputPrice[k] = price.Input;
            outputPrice[k] = price.Output;
            tokens[k] = new NormalVariable(behaviour.OutputTokens.Mean, behaviour.OutputTokens.Spread);
            maxTokens[k] = Math.Max(TokenLaw.MinTokens, settings.MaxOutputTokens);
            latency[k] = new NormalVariable(behaviour.LatencySeconds.Mean, behaviour.LatencySeconds.Spread);
            var meanTokens = TokenLaw.Of(tokens[k], settings.MaxOutputTokens).Mean;
            expectedCost += ((input[k] + previousMeanTokens) * price.Input + meanTokens * price.Output) / 1_000_000.0;
            previousMeanTokens = meanTokens;
        }
        ExpectedAgentCostUsd = expectedCost;

        // Welford's running mean and sum of squared deviations: exact zero spread when every draw gives the same value.
        double mean = 0;
        double squares = 0;
        for (var s = 0; s < normals.Samples; s++)
        {
            double cost = 0;
            double seconds = 0;
            long previous = 0;
            for (var k = 0; k < steps; k++)
            {
                var drawn = (long)Math.Clamp(Math.Round(tokens[k].Mean + tokens[k].Spread * normals.Tokens(s, k)), TokenLaw.MinTokens, maxTokens[k]);
                cost += ((input[k] + previous) * inputPrice[k] + drawn * outputPrice[k]) / 1_000_000.0;
                seconds += Math.Max(0.1, latency[k].Mean + latency[k].Spread * normals.Latency(s, k));
                previous = drawn;
            }
            var x = reward.CostWeight * Math.Min(cost / reward.CostScaleUsd, 1.0) + reward.LatencyWeight * Math.Min(seconds / reward.LatencyScaleSeconds, 1.0);
            // g(x) = E[(Q - x); Q > x], from the first grid point above x.
            var j = Math.Clamp((int)Math.Floor(x * 400) + 1, 0, law.Length);
            var g = tailMean[j] - x * tailMass[j];
            var delta = g - mean;
            mean += delta / (s + 1);
            squares += delta * (g - mean);
        }
        var n = normals.Samples;
        Mean = mean;
        StandardError = Math.Sqrt(squares / (n - 1) / n);
    }

    public double Mean { get; }

    public double StandardError { get; }

    public double ExpectedAgentCostUsd { get; }
}

/// <summary>Standard normal draws shared by every chain estimate: per sample, one for each step's tokens and one for its latency.</summary>
internal sealed class ChainNormals
{
    private readonly double[] draws;

    public ChainNormals(int samples, long seed)
    {
        if (samples < 2)
            throw new ComparisonInputException($"The chain oracle needs at least 2 samples to state its precision, not {samples}.");
        Samples = samples;
        draws = new double[samples * 2 * ChainOptions.MaxAllowedLength];
        var random = new SeededRandomSource(seed);
        for (var i = 0; i < draws.Length; i++)
        {
            // Box-Muller as the simulated backend draws; 1 - u keeps the logarithm finite.
            var u1 = 1.0 - random.Random();
            var u2 = random.Random();
            draws[i] = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
        }
    }

    public int Samples { get; }

    public double Tokens(int sample, int step) => draws[(sample * ChainOptions.MaxAllowedLength + step) * 2];

    public double Latency(int sample, int step) => draws[(sample * ChainOptions.MaxAllowedLength + step) * 2 + 1];
}
