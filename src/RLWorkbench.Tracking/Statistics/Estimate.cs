namespace RLWorkbench.Tracking.Statistics;

/// <summary>
/// A mean over seeds with its two-sided 95% Student-t interval: mean +- t(0.975, n-1) * s / sqrt(n), s the
/// sample standard deviation. One value has no interval (Lower and Upper are NaN); none has no mean either.
/// </summary>
public readonly record struct Estimate(double Mean, double Lower, double Upper, int Count)
{
    public static Estimate Of(IReadOnlyList<double> values)
    {
        var n = values.Count;
        if (n == 0)
            return new Estimate(double.NaN, double.NaN, double.NaN, 0);
        var mean = values.Average();
        if (n == 1)
            return new Estimate(mean, double.NaN, double.NaN, 1);
        var half = HalfWidth95(StandardDeviation(values, mean), n);
        return new Estimate(mean, mean - half, mean + half, n);
    }

    /// <summary>Half the 95% interval's width for a sample of <paramref name="count"/> (at least 2) with this standard deviation.</summary>
    public static double HalfWidth95(double standardDeviation, int count)
    {
        if (count < 2)
            throw new ArgumentOutOfRangeException(nameof(count), count, "An interval over seeds needs at least 2 of them.");
        return StudentT.TwoSided95(count - 1) * standardDeviation / Math.Sqrt(count);
    }

    /// <summary>Sample standard deviation (n - 1 in the denominator).</summary>
    public static double StandardDeviation(IReadOnlyList<double> values, double mean) =>
        Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));

    public bool HasInterval => Count >= 2;
}
