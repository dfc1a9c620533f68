using System.Globalization;

namespace RLWorkbench.Comparison;

/// <summary>A mean over seeds with its 95% percentile-bootstrap interval (NaN bounds for a single seed).</summary>
public readonly record struct SeedMean(double Mean, double Lower, double Upper)
{
    public static SeedMean Of(IReadOnlyList<double> values)
    {
        var (mean, lower, upper) = SeedBootstrap.Mean(values);
        return new SeedMean(mean, lower, upper);
    }

    public bool HasInterval => double.IsFinite(Lower) && double.IsFinite(Upper);
}

/// <summary>One learner's results over all seeds.</summary>
public sealed record LearnerSummary(
    string Learner,
    int Seeds,
    SeedMean[] Curve,
    SeedMean FinalValue,
    SeedMean FinalRegret,
    CallsToEvent[] FirstCrossing,
    MedianCalls FirstCrossingMedian,
    CallsToEvent[] Settled,
    MedianCalls SettledMedian,
    double DollarsMean,
    double WallSecondsMean,
    long LearnedParameters,
    double FinalImbalanceMean,
    int ParseFailures)
{
    /// <summary>The final greedy policy's expected agent cost per routed task in USD, over seeds.</summary>
    public SeedMean FinalCostUsd { get; init; } = new(double.NaN, double.NaN, double.NaN);

    /// <summary>The final greedy policy's expected reward per USD of agent calls (expected reward / expected cost per task), over seeds.</summary>
    public SeedMean FinalValuePerDollar { get; init; } = new(double.NaN, double.NaN, double.NaN);
}

/// <summary>How much the headline ratio says: a measured ratio, a bound because one median lies beyond the budget, or nothing.</summary>
public enum RatioKind
{
    Measured,
    QLearningBeyondBudget,
    PpoBeyondBudget,
    NeitherWithinBudget,
}

/// <summary>
/// Q-learning's median calls-to-settle over one PPO learner's. <see cref="QOverPpo"/> is the ratio itself when
/// <see cref="Kind"/> is Measured, a lower bound when Q-learning's median is beyond the budget, an upper bound when
/// PPO's is, and null when both are. The interval is in the same orientation (Q-learning over PPO).
/// </summary>
public sealed record HeadlineRatio(
    string Ppo,
    string QLearning,
    RatioKind Kind,
    double? QOverPpo,
    double? Lower,
    double? Upper,
    MedianCalls PpoSettled,
    MedianCalls QSettled,
    string Sentence);

/// <summary>Statistics over seeds: curves, calls to the threshold as censored times, the headline ratio.</summary>
public static class ComparisonSummary
{
    public const double SeedClaimRatio = 1667;

    public static IReadOnlyList<LearnerSummary> Summarise(ComparisonResult result)
    {
        var budget = result.Checkpoints[^1];
        var summaries = new List<LearnerSummary>();
        foreach (var learner in result.Options.Learners)
        {
            var runs = result.Runs.Where(r => r.Learner == learner).ToList();
            if (runs.Count == 0)
                continue;
            var curve = Enumerable.Range(0, result.Checkpoints.Length).Select(i => SeedMean.Of(runs.Select(r => r.Values[i]).ToList())).ToArray();
            var finals = runs.Select(r => r.Values[^1]).ToList();
            var first = runs.Select(r => ThresholdEvents.FirstCrossing(r.Values, result.Checkpoints, result.Threshold)).ToArray();
            var settled = runs.Select(r => ThresholdEvents.Settled(r.Values, result.Checkpoints, result.Threshold)).ToArray();
            summaries.Add(new LearnerSummary(
                learner,
                runs.Count,
                curve,
                SeedMean.Of(finals),
                SeedMean.Of(finals.Select(v => result.OracleValue - v).ToList()),
                first,
                SeedBootstrap.Median(first, budget),
                settled,
                SeedBootstrap.Median(settled, budget),
                runs.Average(r => r.DollarsSpent),
                runs.Average(r => r.WallSeconds),
                runs[0].LearnedParameters,
                runs.Average(r => r.FinalImbalance),
                runs.Sum(r => r.ParseFailures))
            {
                FinalCostUsd = SeedMean.Of(runs.Select(r => r.FinalCostUsd).ToList()),
                FinalValuePerDollar = SeedMean.Of(runs.Select(r => r.FinalCostUsd > 0 ? r.Values[^1] / r.FinalCostUsd : double.NaN).ToList()),
            });
        }
        return summaries;
    }

    /// <summary>
    /// Q-learning's Kaplan-Meier median calls-to-settle over a PPO learner's, with a percentile bootstrap interval, and the
    /// sentence a reader needs: which learner needs more calls and by about how much, or the bound when a median lies
    /// beyond the budget.
    /// </summary>
    public static HeadlineRatio Ratio(LearnerSummary ppo, LearnerSummary q, double fraction)
    {
        var ppoName = LearnerNames.Describe(ppo.Learner);
        var p = ppo.SettledMedian;
        var qm = q.SettledMedian;
        var goal = string.Create(CultureInfo.InvariantCulture, $"to settle at {fraction * 100:0.#}% of the oracle");
        string Median(MedianCalls m) => m.Median is { } v
            ? string.Create(CultureInfo.InvariantCulture, $"{v:N0} ({m.Reached}/{m.Seeds} seeds settled)")
            : string.Create(CultureInfo.InvariantCulture, $"beyond {m.Budget:N0} ({m.Reached}/{m.Seeds} seeds settled)");
        var medians = $"Kaplan-Meier median calls: Q-learning {Median(qm)}, {ppoName} {Median(p)}";
        var claim = string.Create(CultureInfo.InvariantCulture, $"the seed claimed Q-learning needs about {SeedClaimRatio:N0}x fewer");
        if (qm.Median is { } qMedian && p.Median is { } pMedian)
        {
            var ratio = SeedBootstrap.Ratio(qMedian, pMedian);
            var (lower, upper) = SeedBootstrap.RatioInterval(q.Settled, ppo.Settled);
            var qSlower = ratio >= 1;
            var (slower, faster) = qSlower ? ("Q-learning", ppoName) : (ppoName, "Q-learning");
            var shown = qSlower ? ratio : 1 / ratio;
            var (low, high) = qSlower ? (lower, upper) : (1 / upper, 1 / lower);
            var interval = (q.Seeds < 2 || ppo.Seeds < 2) ? "one seed, so no interval" : (low > 0, double.IsFinite(high)) switch
            {
                (true, true) => $"95% interval {Times(low)} to {Times(high)}",
                (true, false) => $"95% interval from {Times(low)}, its upper end beyond what the budget can show",
                (false, true) => $"95% interval up to {Times(high)}, its lower end open because some resamples put {faster}'s median beyond the budget",
                _ => "95% interval unbounded on both sides",
            };
            var undecided = low < 1 && q.Seeds >= 2 && ppo.Seeds >= 2 ? "; the interval includes 1x, so the direction is not established" : "";
            var sentence = string.Create(CultureInfo.InvariantCulture, $"{slower} needs about {Times(shown)} more calls than {faster} {goal} ({interval}{undecided}; {medians}); {claim}.");
            var single = q.Seeds < 2 || ppo.Seeds < 2;
            return new HeadlineRatio(ppo.Learner, q.Learner, RatioKind.Measured, ratio, single ? null : Finite(lower), single ? null : Finite(upper), p, qm, sentence);
        }
        if (p.Median is { } ppoOnly)
        {
            var bound = SeedBootstrap.Ratio(qm.Budget, ppoOnly);
            var sentence = string.Create(CultureInfo.InvariantCulture, $"Q-learning needs more than {Times(RoundedDown(bound))} more calls than {ppoName} {goal}: fewer than half its seeds settled within the budget, so its median lies beyond it ({medians}); {claim}.");
            return new HeadlineRatio(ppo.Learner, q.Learner, RatioKind.QLearningBeyondBudget, bound, null, null, p, qm, sentence);
        }
        if (qm.Median is { } qOnly)
        {
            var bound = SeedBootstrap.Ratio(p.Budget, qOnly);
            var sentence = string.Create(CultureInfo.InvariantCulture, $"{ppoName} needs more than {Times(RoundedDown(bound))} more calls than Q-learning {goal}: fewer than half its seeds settled within the budget, so its median lies beyond it ({medians}); {claim}.");
            return new HeadlineRatio(ppo.Learner, q.Learner, RatioKind.PpoBeyondBudget, SeedBootstrap.Ratio(qOnly, p.Budget), null, null, p, qm, sentence);
        }
        return new HeadlineRatio(ppo.Learner, q.Learner, RatioKind.NeitherWithinBudget, null, null, null, p, qm,
            string.Create(CultureInfo.InvariantCulture, $"Neither Q-learning nor {ppoName} settled at {fraction * 100:0.#}% of the oracle in half its seeds within the budget ({medians}): no ratio; {claim}."));
    }

    /// <summary>A ratio with two significant digits at least and no exponent: 1,667x, 26x, 3.2x, 0.042x.</summary>
    public static string Times(double ratio)
    {
        if (ratio >= 100)
            return ratio.ToString("N0", CultureInfo.InvariantCulture) + "x";
        if (ratio >= 10)
            return ratio.ToString("0", CultureInfo.InvariantCulture) + "x";
        if (ratio >= 1)
            return ratio.ToString("0.0", CultureInfo.InvariantCulture) + "x";
        var digits = Math.Clamp(1 - (int)Math.Floor(Math.Log10(ratio)), 2, 15);
        return Math.Round(ratio, digits).ToString("0." + new string('#', digits), CultureInfo.InvariantCulture) + "x";
    }

    /// <summary>A lower bound rounded down to the digits <see cref="Times"/> shows, so the bound it prints still holds.</summary>
    private static double RoundedDown(double ratio) => ratio switch
    {
        >= 10 => Math.Floor(ratio),
        >= 1 => Math.Floor(ratio * 10) / 10,
        _ => ratio,
    };

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}
