namespace RLWorkbench.Ppo.Tests;

/// <summary>The running statistics, observation normaliser and reward scaler against hand-computed values (SB3 VecNormalize's formulas).</summary>
public class NormalisationTests
{
    private const double Prior = 1e-4;

    /// <summary>
    /// What the running statistics must equal after any sequence of batches: the pooled mean and variance
    /// of the data together with SB3's starting point (count 1e-4 of mean 0 and variance 1).
    /// </summary>
    private static (double Mean, double Variance) Pooled(IReadOnlyList<double> data)
    {
        var total = data.Count + Prior;
        var mean = data.Sum() / total;
        var squares = Prior * (1 + mean * mean) + data.Sum(x => (x - mean) * (x - mean));
        return (mean, squares / total);
    }

    [Fact]
    public void Running_statistics_merged_batch_by_batch_equal_the_pooled_statistics()
    {
        var statistics = new RunningMeanStd(2);
        float[][] batches = [[1, 10, 3, 20], [-2, 5], [4, 0, 7, 1, 0.5f, 2]];
        foreach (var batch in batches)
            statistics.Update<float>(batch, batch.Length / 2);
        for (var i = 0; i < 2; i++)
        {
            var column = batches.SelectMany(b => b.Where((_, k) => k % 2 == i)).Select(x => (double)x).ToList();
            var (mean, variance) = Pooled(column);
            Assert.Equal(mean, statistics.Mean[i], 12);
            Assert.Equal(variance, statistics.Variance[i], 12);
        }
        Assert.Equal(6 + Prior, statistics.Count, 12);
    }

    [Fact]
    public void Observations_are_centred_scaled_and_clipped_without_changing_the_statistics()
    {
        var normalizer = new ObservationNormalizer(2, clip: 3);
        normalizer.Update([0, 100, 4, 100]);
        var before = normalizer.Statistics.Snapshot();
        var normalized = new float[4];
        normalizer.Normalize([2, 100, 40, 110], normalized);
        var (mean0, variance0) = Pooled([0, 4]);
        var (mean1, variance1) = Pooled([100, 100]);
        Assert.Equal((float)((2 - mean0) / Math.Sqrt(variance0 + 1e-8)), normalized[0]);
        Assert.Equal((float)((100 - mean1) / Math.Sqrt(variance1 + 1e-8)), normalized[1]);
        Assert.Equal(3f, normalized[2]);
        Assert.Equal(3f, normalized[3]);
        Assert.Equal(before.Mean, normalizer.Statistics.Snapshot().Mean);
        Assert.Equal(before.Variance, normalizer.Statistics.Snapshot().Variance);
    }

    [Fact]
    public void Rewards_are_divided_by_the_std_of_discounted_returns_that_restart_at_episode_ends()
    {
        var scaler = new RewardScaler(envs: 2, gamma: 0.5, clip: 10);
        var scaled = new double[2];
        scaler.Scale([1, 2], [false, true], scaled);
        var std = Math.Sqrt(Pooled([1, 2]).Variance + 1e-8);
        Assert.Equal(1 / std, scaled[0], 12);
        Assert.Equal(2 / std, scaled[1], 12);

        // Environment 0's return continues (0.5 x 1 + 4); environment 1's episode ended, so it restarts at 1.
        scaler.Scale([4, 1], [false, false], scaled);
        std = Math.Sqrt(Pooled([1, 2, 4.5, 1]).Variance + 1e-8);
        Assert.Equal(4 / std, scaled[0], 12);
        Assert.Equal(1 / std, scaled[1], 12);

        // Returns 1 and -2 have a std of about 1.5: 1 / 1.5 stays, -2 / 1.5 is clipped to -1.
        var clipped = new RewardScaler(envs: 2, gamma: 0.5, clip: 1);
        clipped.Scale([1, -2], [false, false], scaled);
        Assert.Equal(1 / Math.Sqrt(Pooled([1, -2]).Variance + 1e-8), scaled[0], 12);
        Assert.Equal(-1, scaled[1]);
    }

    [Fact]
    public void Restoring_statistics_of_another_size_is_refused()
    {
        var statistics = new RunningMeanStd(3);
        Assert.Throws<InvalidDataException>(() => statistics.Restore(new RunningStatistics([0, 0], [1, 1], 1)));
    }
}
