namespace RLWorkbench.Ppo;

/// <summary>What a <see cref="RunningMeanStd"/> knows, as plain numbers for a checkpoint.</summary>
public sealed record RunningStatistics(double[] Mean, double[] Variance, double Count);

/// <summary>
/// SB3's RunningMeanStd: per-element mean and (population) variance of everything seen so far, merged
/// one batch at a time with Chan et al.'s parallel formula, in double precision. It starts at mean 0,
/// variance 1 and a count of 1e-4, as SB3's does, so the first batch dominates without dividing by zero.
/// </summary>
public sealed class RunningMeanStd
{
    private readonly double[] mean;
    private readonly double[] variance;
    private readonly double[] batchMean;
    private readonly double[] batchVariance;

    public RunningMeanStd(int size)
    {
        mean = new double[size];
        variance = new double[size];
        Array.Fill(variance, 1.0);
        batchMean = new double[size];
        batchVariance = new double[size];
        Count = 1e-4;
    }

    public int Size => mean.Length;

    public ReadOnlySpan<double> Mean => mean;

    public ReadOnlySpan<double> Variance => variance;

    public double Count { get; private set; }

    /// <summary>Merges a batch of <paramref name="rows"/> rows of <see cref="Size"/> values each (numpy's mean and var over axis 0).</summary>
    public void Update<T>(ReadOnlySpan<T> batch, int rows)
        where T : System.Numerics.INumberBase<T>
    {
        if (batch.Length != rows * Size)
            throw new ArgumentException($"A batch of {rows} rows of {Size} needs {rows * Size} values, got {batch.Length}.", nameof(batch));
        var size = Size;
        Array.Clear(batchMean);
        Array.Clear(batchVariance);
        for (var r = 0; r < rows; r++)
        {
            for (var i = 0; i < size; i++)
                batchMean[i] += double.CreateTruncating(batch[r * size + i]);
        }
        for (var i = 0; i < size; i++)
            batchMean[i] /= rows;
        for (var r = 0; r < rows; r++)
        {
            for (var i = 0; i < size; i++)
            {
                var d = double.CreateTruncating(batch[r * size + i]) - batchMean[i];
                batchVariance[i] += d * d;
            }
        }
        for (var i = 0; i < size; i++)
            batchVariance[i] /= rows;
        Merge(rows);
    }

    // SB3's update_from_moments.
    private void Merge(double batchCount)
    {
        var total = Count + batchCount;
        for (var i = 0; i < Size; i++)
        {
            var delta = batchMean[i] - mean[i];
            var m2 = variance[i] * Count + batchVariance[i] * batchCount + delta * delta * Count * batchCount / total;
            mean[i] += delta * batchCount / total;
            variance[i] = m2 / total;
        }
        Count = total;
    }

    public RunningStatistics Snapshot() => new([.. mean], [.. variance], Count);

    public void Restore(RunningStatistics statistics)
    {
        if (statistics.Mean.Length != Size || statistics.Variance.Length != Size)
            throw new InvalidDataException($"Running statistics of {statistics.Mean.Length} values cannot restore {Size}.");
        statistics.Mean.CopyTo(mean, 0);
        statistics.Variance.CopyTo(variance, 0);
        Count = statistics.Count;
    }
}
