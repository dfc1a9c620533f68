using RLWorkbench.Tracking.Plots;
using RLWorkbench.Tracking.Statistics;

namespace RLWorkbench.Tracking.Tests;

public sealed class StatisticsTests
{
    [Fact]
    public void T_quantiles_match_the_closed_forms_for_one_two_and_four_degrees_of_freedom()
    {
        const double p = 0.975;
        Assert.Equal(Math.Tan(Math.PI * (p - 0.5)), StudentT.Quantile(p, 1), 1e-10);
        Assert.Equal((2 * p - 1) / Math.Sqrt(2 * p * (1 - p)), StudentT.Quantile(p, 2), 1e-12);
        var alpha = 4 * p * (1 - p);
        Assert.Equal(2 * Math.Sqrt(Math.Cos(Math.Acos(Math.Sqrt(alpha)) / 3) / Math.Sqrt(alpha) - 1), StudentT.Quantile(p, 4), 1e-12);
        Assert.Equal(-Math.Tan(Math.PI * 0.4), StudentT.Quantile(0.1, 1), 1e-10);
    }

    [Theory]
    [InlineData(3, 3.182446)]
    [InlineData(5, 2.570582)]
    [InlineData(10, 2.228139)]
    [InlineData(30, 2.042272)]
    [InlineData(1_000_000, 1.959966)]
    public void T_quantiles_match_published_tables(double degreesOfFreedom, double expected)
    {
        Assert.Equal(expected, StudentT.TwoSided95(degreesOfFreedom), 6);
    }

    [Fact]
    public void The_cdf_inverts_the_quantile_and_is_symmetric()
    {
        foreach (var df in new[] { 0.5, 1.0, 2.5, 7.0, 120.0 })
        {
            foreach (var prob in new[] { 0.001, 0.2, 0.5, 0.9, 0.999 })
                Assert.Equal(prob, StudentT.Cdf(StudentT.Quantile(prob, df), df), 1e-12);
            Assert.Equal(1.0, StudentT.Cdf(1.3, df) + StudentT.Cdf(-1.3, df), 1e-14);
        }
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => StudentT.Quantile(1.0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => StudentT.Quantile(0.5, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Estimate.HalfWidth95(1.0, 1));
    }

    [Fact]
    public void Estimates_over_two_three_and_five_seeds_are_the_t_intervals_of_the_mean()
    {
        // [1, 3]: s = sqrt(2), s / sqrt(2) = 1, t(1) = tan(0.475 pi).
        var two = Estimate.Of([1.0, 3.0]);
        Assert.Equal(2.0, two.Mean);
        Assert.Equal(2, two.Count);
        Assert.Equal(2 - 12.706204736174707, two.Lower, 1e-10);
        Assert.Equal(2 + 12.706204736174707, two.Upper, 1e-10);

        // [1, 2, 3]: s = 1, t(2) = 4.302652729749464.
        var three = Estimate.Of([1.0, 2.0, 3.0]);
        Assert.Equal(2.0, three.Mean);
        Assert.Equal(2 - 4.302652729749464 / Math.Sqrt(3), three.Lower, 1e-12);
        Assert.Equal(3, three.Count);

        // [1..5]: s = sqrt(2.5), s / sqrt(5) = sqrt(0.5), t(4) = 2.7764451051977934.
        var five = Estimate.Of([1.0, 2.0, 3.0, 4.0, 5.0]);
        Assert.Equal(3.0, five.Mean);
        Assert.Equal(3 + 2.7764451051977934 * Math.Sqrt(0.5), five.Upper, 1e-12);

        var one = Estimate.Of([7.0]);
        Assert.Equal(7.0, one.Mean);
        Assert.True(double.IsNaN(one.Lower) && double.IsNaN(one.Upper) && !one.HasInterval);
        Assert.Equal(0, Estimate.Of([]).Count);
    }

    [Fact]
    public void A_seed_band_gives_the_t_interval_at_each_x()
    {
        var band = SeriesMath.MeanBand([([0.0, 10.0], [1.0, 10.0]), ([0.0, 10.0], [3.0, 10.0])]);
        var (lower, upper) = band.Interval95();
        Assert.Equal([2.0, 10.0], band.Mean);
        Assert.Equal(2 - 12.706204736174707, lower[0], 1e-10);
        Assert.Equal(2 + 12.706204736174707, upper[0], 1e-10);
        Assert.Equal(10.0, lower[1]);
        var single = SeriesMath.MeanBand([([0.0, 10.0], [1.0, 2.0])]).Interval95();
        Assert.Equal([1.0, 2.0], single.Lower);
    }
}
