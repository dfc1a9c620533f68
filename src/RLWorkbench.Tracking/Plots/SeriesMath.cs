using RLWorkbench.Tracking.Statistics;

namespace RLWorkbench.Tracking.Plots;

/// <summary>Mean and spread of one curve over several seeds, on the steps all of them reached.</summary>
public sealed record SeedBand(double[] X, double[] Mean, double[] Std, int Runs)
{
    public double[] Lower => Mean.Zip(Std, (m, s) => m - s).ToArray();

    public double[] Upper => Mean.Zip(Std, (m, s) => m + s).ToArray();

    /// <summary>The 95% Student-t interval of the mean at each x (<see cref="Estimate"/>); the mean itself for one run.</summary>
    public (double[] Lower, double[] Upper) Interval95()
    {
        if (Runs < 2)
            return (Mean, Mean);
        var half = Std.Select(s => Estimate.HalfWidth95(s, Runs)).ToArray();
        return (Mean.Zip(half, (m, h) => m - h).ToArray(), Mean.Zip(half, (m, h) => m + h).ToArray());
    }
}

/// <summary>The small numeric steps between a run's tables and its plots.</summary>
public static class SeriesMath
{
    /// <summary>
    /// Trailing moving average over up to <paramref name="window"/> values; the first points average what
    /// there is so far, so the curve starts with the data rather than <paramref name="window"/> points late.
    /// NaN values are skipped (a NaN point stays NaN when its window holds no number).
    /// </summary>
    public static double[] MovingAverage(IReadOnlyList<double> values, int window)
    {
        if (window < 1)
            throw new ArgumentOutOfRangeException(nameof(window), "A moving average needs a window of at least 1.");
        var result = new double[values.Count];
        double sum = 0;
        var count = 0;
        for (var i = 0; i < values.Count; i++)
        {
            if (!double.IsNaN(values[i]))
            {
                sum += values[i];
                count++;
            }
            if (i >= window && !double.IsNaN(values[i - window]))
            {
                sum -= values[i - window];
                count--;
            }
            result[i] = count > 0 ? sum / count : double.NaN;
        }
        return result;
    }

    /// <summary>A window that smooths without hiding the trend: about a twentieth of the points, at least 1.</summary>
    public static int DefaultWindow(int points) => Math.Clamp(points / 20, 1, 100);

    /// <summary>
    /// Mean and sample standard deviation of several runs' curves. Each curve is linearly interpolated at
    /// the first run's x values inside the range every run covers, since seeds log at nearby but not always
    /// identical steps. One run gives a zero-width band.
    /// </summary>
    public static SeedBand MeanBand(IReadOnlyList<(double[] X, double[] Y)> runs)
    {
        if (runs.Count == 0)
            throw new ArgumentException("A band needs at least one run.", nameof(runs));
        var clean = runs.Select(r => Finite(r.X, r.Y)).ToList();
        if (clean.Any(c => c.X.Length == 0))
            return new SeedBand([], [], [], runs.Count);
        var from = clean.Max(c => c.X[0]);
        var to = clean.Min(c => c.X[^1]);
        var grid = clean[0].X.Where(x => x >= from && x <= to).ToArray();
        var mean = new double[grid.Length];
        var std = new double[grid.Length];
        for (var i = 0; i < grid.Length; i++)
        {
            var values = clean.Select(c => Interpolate(c.X, c.Y, grid[i])).ToArray();
            mean[i] = values.Average();
            std[i] = values.Length > 1 ? Math.Sqrt(values.Sum(v => (v - mean[i]) * (v - mean[i])) / (values.Length - 1)) : 0;
        }
        return new SeedBand(grid, mean, std, runs.Count);
    }

    /// <summary>The points where both coordinates are numbers, sorted by x.</summary>
    public static (double[] X, double[] Y) Finite(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        var pairs = x.Zip(y).Where(p => double.IsFinite(p.First) && double.IsFinite(p.Second)).OrderBy(p => p.First).ToArray();
        return (pairs.Select(p => p.First).ToArray(), pairs.Select(p => p.Second).ToArray());
    }

    private static double Interpolate(double[] x, double[] y, double at)
    {
        var i = Array.BinarySearch(x, at);
        if (i >= 0)
            return y[i];
        i = ~i;
        if (i == 0)
            return y[0];
        if (i >= x.Length)
            return y[^1];
        var t = (at - x[i - 1]) / (x[i] - x[i - 1]);
        return y[i - 1] + t * (y[i] - y[i - 1]);
    }
}
