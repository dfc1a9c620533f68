using RLWorkbench.Gym.Random;

namespace RLWorkbench.Comparison;

/// <summary>
/// One seed's LLM calls until an event (its greedy policy reaching the threshold), or, when the event never happened,
/// the calls its run ended at: a time-to-event observation censored at the budget.
/// </summary>
public readonly record struct CallsToEvent(long Calls, bool Reached);

/// <summary>
/// The two events a learning curve is read for: the first checkpoint at or above the threshold, and the checkpoint
/// after which the curve stays at or above it to the end of the run ("settled"). A curve that ends below the threshold
/// has not settled, whatever it touched before.
/// </summary>
public static class ThresholdEvents
{
    /// <summary>A tolerance far below any reward difference, so the oracle reaches its own value.</summary>
    private const double Tolerance = 1e-12;

    public static CallsToEvent FirstCrossing(IReadOnlyList<double> values, IReadOnlyList<long> checkpoints, double threshold)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (values[i] >= threshold - Tolerance)
                return new CallsToEvent(checkpoints[i], true);
        }
        return new CallsToEvent(checkpoints[^1], false);
    }

    public static CallsToEvent Settled(IReadOnlyList<double> values, IReadOnlyList<long> checkpoints, double threshold)
    {
        var lastBelow = -1;
        for (var i = 0; i < values.Count; i++)
        {
            if (values[i] < threshold - Tolerance)
                lastBelow = i;
        }
        return lastBelow == values.Count - 1
            ? new CallsToEvent(checkpoints[^1], false)
            : new CallsToEvent(checkpoints[lastBelow + 1], true);
    }
}

/// <summary>
/// Kaplan-Meier median of censored calls-to-threshold: S(t) = prod over event times t_i &lt;= t of (1 - d_i / n_i), d_i
/// seeds reaching at t_i, n_i seeds still at risk (not yet reached, not yet censored; a seed censored at t_i is at risk
/// at t_i). The median is the first t with S(t) &lt;= 1/2; where S is exactly 1/2 on a flat stretch it is the midpoint to
/// the next event time (R survival's convention, so with no censoring it is the ordinary sample median). Null when S
/// stays above 1/2: fewer than half the seeds reached within the budget, so the median lies beyond it.
/// </summary>
public static class KaplanMeier
{
    private const double Tolerance = 1e-12;

    public static double? Median(IReadOnlyList<CallsToEvent> seeds)
    {
        var sorted = seeds.OrderBy(s => s.Calls).ToArray();
        var atRisk = sorted.Length;
        var survival = 1.0;
        var i = 0;
        while (i < sorted.Length)
        {
            var t = sorted[i].Calls;
            var events = 0;
            var leaving = 0;
            for (; i < sorted.Length && sorted[i].Calls == t; i++, leaving++)
                events += sorted[i].Reached ? 1 : 0;
            if (events > 0)
            {
                survival *= 1 - (double)events / atRisk;
                if (Math.Abs(survival - 0.5) < Tolerance)
                {
                    for (var j = i; j < sorted.Length; j++)
                    {
                        if (sorted[j].Reached)
                            return (t + sorted[j].Calls) / 2.0;
                    }
                    return t;
                }
                if (survival < 0.5)
                    return t;
            }
            atRisk -= leaving;
        }
        return null;
    }
}

/// <summary>
/// A Kaplan-Meier median of calls with its 95% interval: the 2.5th and 97.5th percentiles of the median over bootstrap
/// resamples of the seeds (a resample whose median lies beyond the budget counts as infinitely many calls). Null
/// <see cref="Median"/> or <see cref="Upper"/>: beyond the budget. Percentiles of a positive statistic, so never negative.
/// </summary>
public sealed record MedianCalls(double? Median, double? Lower, double? Upper, int Reached, int Seeds, long Budget)
{
    public bool AllReached => Reached == Seeds;
}

/// <summary>
/// Percentile bootstrap over seeds: each learner's seeds resampled with replacement, independently, 4000 times, from a
/// fixed seed so a report is reproducible.
/// </summary>
public static class SeedBootstrap
{
    public const int Resamples = 4000;
    private const long RandomSeed = 20_240_601;

    public static MedianCalls Median(IReadOnlyList<CallsToEvent> seeds, long budget)
    {
        var reached = seeds.Count(s => s.Reached);
        var median = KaplanMeier.Median(seeds);
        if (seeds.Count < 2)
            return new MedianCalls(median, null, null, reached, seeds.Count, budget);
        var random = new SeededRandomSource(RandomSeed);
        var samples = new double[Resamples];
        for (var b = 0; b < Resamples; b++)
            samples[b] = KaplanMeier.Median(Resample(seeds, random)) ?? double.PositiveInfinity;
        var (lower, upper) = Percentiles(samples, samples);
        return new MedianCalls(median, Finite(lower), Finite(upper), reached, seeds.Count, budget);
    }

    /// <summary>
    /// Percentile interval of median(slower) / median(faster) with each learner's seeds resampled independently. A
    /// resample whose numerator's median is beyond the budget gives an infinite ratio, one whose denominator's is gives
    /// zero; when both are, the resample widens the interval on both sides (zero for the lower end, infinity for the upper).
    /// </summary>
    public static (double Lower, double Upper) RatioInterval(IReadOnlyList<CallsToEvent> numerator, IReadOnlyList<CallsToEvent> denominator)
    {
        var random = new SeededRandomSource(RandomSeed);
        var forLower = new double[Resamples];
        var forUpper = new double[Resamples];
        for (var b = 0; b < Resamples; b++)
        {
            var top = KaplanMeier.Median(Resample(numerator, random)) ?? double.PositiveInfinity;
            var bottom = KaplanMeier.Median(Resample(denominator, random)) ?? double.PositiveInfinity;
            var ratio = Ratio(top, bottom);
            forLower[b] = double.IsNaN(ratio) ? 0 : ratio;
            forUpper[b] = double.IsNaN(ratio) ? double.PositiveInfinity : ratio;
        }
        return Percentiles(forLower, forUpper);
    }

    /// <summary>A ratio of calls; a learner that reached at checkpoint 0 counts as one call, so the ratio stays finite.</summary>
    public static double Ratio(double top, double bottom) =>
        double.IsPositiveInfinity(top) && double.IsPositiveInfinity(bottom) ? double.NaN : Math.Max(top, 1) / Math.Max(bottom, 1);

    /// <summary>Mean over seeds with the 2.5th and 97.5th percentiles of resampled means; NaN bounds for a single seed.</summary>
    public static (double Mean, double Lower, double Upper) Mean(IReadOnlyList<double> values)
    {
        var mean = values.Average();
        if (values.Count < 2)
            return (mean, double.NaN, double.NaN);
        var random = new SeededRandomSource(RandomSeed);
        var samples = new double[Resamples];
        for (var b = 0; b < Resamples; b++)
        {
            var sum = 0.0;
            for (var i = 0; i < values.Count; i++)
                sum += values[random.Choice(values.Count)];
            samples[b] = sum / values.Count;
        }
        var (lower, upper) = Percentiles(samples, samples);
        return (mean, lower, upper);
    }

    private static CallsToEvent[] Resample(IReadOnlyList<CallsToEvent> seeds, SeededRandomSource random)
    {
        var sample = new CallsToEvent[seeds.Count];
        for (var i = 0; i < sample.Length; i++)
            sample[i] = seeds[random.Choice(seeds.Count)];
        return sample;
    }

    private static (double Lower, double Upper) Percentiles(double[] forLower, double[] forUpper)
    {
        Array.Sort(forLower);
        Array.Sort(forUpper);
        return (forLower[(int)(0.025 * Resamples)], forUpper[(int)(0.975 * Resamples) - 1]);
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}
