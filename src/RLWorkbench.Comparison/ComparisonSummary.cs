using RLWorkbench.Gym.Random;
using RLWorkbench.Tracking.Statistics;

namespace RLWorkbench.Comparison;

/// <summary>One learner's results over all seeds.</summary>
public sealed record LearnerSummary(
    string Learner,
    int Seeds,
    Estimate[] Curve,
    Estimate FinalValue,
    Estimate FinalRegret,
    long?[] CallsToThreshold,
    Estimate CallsToThresholdReached,
    Estimate Dollars,
    Estimate WallSeconds,
    long LearnedParameters,
    Estimate FinalImbalance,
    int ParseFailures)
{
    public int SeedsReached => CallsToThreshold.Count(c => c is not null);
}

/// <summary>PPO's calls-to-threshold over Q-learning's, with a bootstrap interval over seeds.</summary>
public sealed record HeadlineRatio(
    string Ppo,
    string QLearning,
    double? Ratio,
    double? Lower,
    double? Upper,
    int PpoReached,
    int QReached,
    int Seeds,
    long Budget,
    bool LowerBoundOnly,
    string Sentence);

/// <summary>Statistics over seeds: curves, calls to the threshold, the headline ratio.</summary>
public static class ComparisonSummary
{
    public const double SeedClaimRatio = 1667;

    /// <summary>The first checkpoint at which the greedy policy's expected reward reaches the threshold, or null.</summary>
    public static long? CallsToThreshold(double[] values, long[] checkpoints, double threshold)
    {
        for (var i = 0; i < values.Length; i++)
        {
            // A tolerance far below any reward difference, so the oracle itself reaches its own value.
            if (values[i] >= threshold - 1e-12)
                return checkpoints[i];
        }
        return null;
    }

    public static IReadOnlyList<LearnerSummary> Summarise(ComparisonResult result)
    {
        var summaries = new List<LearnerSummary>();
        foreach (var learner in result.Options.Learners)
        {
            var runs = result.Runs.Where(r => r.Learner == learner).ToList();
            if (runs.Count == 0)
                continue;
            var curve = Enumerable.Range(0, result.Checkpoints.Length).Select(i => Estimate.Of(runs.Select(r => r.Values[i]).ToList())).ToArray();
            var finals = runs.Select(r => r.Values[^1]).ToList();
            var calls = runs.Select(r => CallsToThreshold(r.Values, result.Checkpoints, result.Threshold)).ToArray();
            summaries.Add(new LearnerSummary(
                learner,
                runs.Count,
                curve,
                Estimate.Of(finals),
                Estimate.Of(finals.Select(v => result.OracleValue - v).ToList()),
                calls,
                Estimate.Of(calls.Where(c => c is not null).Select(c => (double)c!.Value).ToList()),
                Estimate.Of(runs.Select(r => r.DollarsSpent).ToList()),
                Estimate.Of(runs.Select(r => r.WallSeconds).ToList()),
                runs[0].LearnedParameters,
                Estimate.Of(runs.Select(r => r.FinalImbalance).ToList()),
                runs.Sum(r => r.ParseFailures)));
        }
        return summaries;
    }

    /// <summary>
    /// Ratio of mean calls-to-threshold, PPO over Q-learning. A seed that never reached the threshold counts as the budget,
    /// which makes the ratio a lower bound for PPO (or an upper bound when Q-learning is the one that missed). The interval
    /// resamples the seeds of each learner independently (percentile bootstrap, 4000 resamples, fixed seed).
    /// </summary>
    public static HeadlineRatio Ratio(LearnerSummary ppo, LearnerSummary q, long budget, double fraction)
    {
        var name = LearnerNames.Describe(ppo.Learner);
        if (ppo.SeedsReached == 0)
        {
            var qText = q.SeedsReached == 0
                ? "Q-learning did not reach it either"
                : $"Q-learning reached it after {q.CallsToThresholdReached.Mean:N0} calls on average, so the ratio is above {budget / q.CallsToThresholdReached.Mean:N0}x";
            return new HeadlineRatio(ppo.Learner, q.Learner, null, null, null, 0, q.SeedsReached, ppo.Seeds, budget, true,
                $"{name} did not reach the threshold within the budget of {budget:N0} LLM calls in any of {ppo.Seeds} seeds; {qText}. The seed claimed about {SeedClaimRatio:N0}x.");
        }
        if (q.SeedsReached == 0)
        {
            return new HeadlineRatio(ppo.Learner, q.Learner, null, null, null, ppo.SeedsReached, 0, ppo.Seeds, budget, false,
                $"Q-learning did not reach the threshold within {budget:N0} calls in any seed while {name} did in {ppo.SeedsReached} of {ppo.Seeds}; no ratio. The seed claimed about {SeedClaimRatio:N0}x.");
        }
        var ppoCalls = ppo.CallsToThreshold.Select(c => (double)(c ?? budget)).ToArray();
        var qCalls = q.CallsToThreshold.Select(c => (double)(c ?? budget)).ToArray();
        var ratio = ppoCalls.Average() / Math.Max(qCalls.Average(), 1);
        var random = new SeededRandomSource(20_240_601);
        var samples = new double[4000];
        for (var b = 0; b < samples.Length; b++)
        {
            double sp = 0, sq = 0;
            for (var i = 0; i < ppoCalls.Length; i++)
                sp += ppoCalls[random.Choice(ppoCalls.Length)];
            for (var i = 0; i < qCalls.Length; i++)
                sq += qCalls[random.Choice(qCalls.Length)];
            samples[b] = sp / ppoCalls.Length / Math.Max(sq / qCalls.Length, 1);
        }
        Array.Sort(samples);
        var lower = samples[(int)(0.025 * samples.Length)];
        var upper = samples[(int)(0.975 * samples.Length) - 1];
        var censored = ppo.SeedsReached < ppo.Seeds;
        var qNote = q.SeedsReached < q.Seeds ? $" (Q-learning missed in {q.Seeds - q.SeedsReached} seeds, counted as the budget)" : "";
        var ppoNote = censored ? $" (PPO missed in {ppo.Seeds - ppo.SeedsReached} of {ppo.Seeds} seeds, counted as the budget, so this is a lower bound)" : "";
        var sentence = $"{name} needed {ppoCalls.Average():N0} LLM calls on average to reach {fraction * 100:0.#}% of the oracle's expected reward, Q-learning {qCalls.Average():N0}: "
            + $"ratio {ratio:0.0}x (95% bootstrap interval {lower:0.0}x to {upper:0.0}x){ppoNote}{qNote}; the seed claimed about {SeedClaimRatio:N0}x.";
        return new HeadlineRatio(ppo.Learner, q.Learner, ratio, lower, upper, ppo.SeedsReached, q.SeedsReached, ppo.Seeds, budget, censored, sentence);
    }
}
