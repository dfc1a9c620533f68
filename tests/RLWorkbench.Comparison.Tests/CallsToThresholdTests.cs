namespace RLWorkbench.Comparison.Tests;

/// <summary>Calls-to-threshold as censored times: the events read off a curve, the Kaplan-Meier median, and the headline sentence.</summary>
public sealed class CallsToThresholdTests
{
    private static CallsToEvent Reached(long calls) => new(calls, true);

    private static CallsToEvent Censored(long budget) => new(budget, false);

    [Fact]
    public void First_crossing_and_settled_are_read_off_a_curve_that_drops_back_below_the_threshold()
    {
        long[] grid = [0, 2, 4, 8, 16, 32];
        double[] dipping = [0.1, 0.95, 0.5, 0.92, 0.95, 0.96];
        Assert.Equal(Reached(2), ThresholdEvents.FirstCrossing(dipping, grid, 0.9));
        Assert.Equal(Reached(8), ThresholdEvents.Settled(dipping, grid, 0.9));
        // A curve that ends below the threshold has not settled, whatever it touched: censored at the budget.
        double[] fallsBack = [0.1, 0.95, 0.95, 0.95, 0.95, 0.5];
        Assert.Equal(Reached(2), ThresholdEvents.FirstCrossing(fallsBack, grid, 0.9));
        Assert.Equal(Censored(32), ThresholdEvents.Settled(fallsBack, grid, 0.9));
        double[] never = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
        Assert.Equal(Censored(32), ThresholdEvents.FirstCrossing(never, grid, 0.9));
        Assert.Equal(Censored(32), ThresholdEvents.Settled(never, grid, 0.9));
        double[] always = [0.9, 0.9, 0.9, 0.9, 0.9, 0.9];
        Assert.Equal(Reached(0), ThresholdEvents.Settled(always, grid, 0.9));
    }

    [Fact]
    public void The_kaplan_meier_median_counts_seeds_censored_at_the_budget_instead_of_dropping_them()
    {
        // Reached at 100, 300, 500; two seeds censored at the budget of 1000.
        // S(100) = 4/5 = 0.8, S(300) = 0.8 x 3/4 = 0.6, S(500) = 0.6 x 2/3 = 0.4 <= 1/2: the median is 500.
        // Dropping the censored seeds would give 300.
        Assert.Equal(500.0, KaplanMeier.Median([Reached(300), Censored(1000), Reached(100), Censored(1000), Reached(500)]));
        // Censored mid-way (a seed cut short): 100, 200 reached, 300 censored, 400 reached, 500 censored.
        // S(100) = 0.8, S(200) = 0.6, at risk at 400: 2, S(400) = 0.3: the median is 400 (dropping gives 200, counting gives 300).
        Assert.Equal(400.0, KaplanMeier.Median([Reached(100), Reached(200), Censored(300), Reached(400), Censored(500)]));
        // S is exactly 1/2 after 200 and stays so until the next event at 400: the midpoint, as R's survfit; without
        // censoring that is the ordinary sample median.
        Assert.Equal(300.0, KaplanMeier.Median([Reached(100), Reached(200), Reached(400), Reached(800)]));
        Assert.Equal(300.0, KaplanMeier.Median([Reached(100), Reached(200), Reached(400), Censored(1000)]));
        // Fewer than half reached: the median lies beyond the budget.
        Assert.Null(KaplanMeier.Median([Reached(100), Censored(1000), Censored(1000), Censored(1000)]));
        // Ties: two reach at 200 with four at risk, so S(200) = 1/2 exactly, and no later event: the median is 200.
        Assert.Equal(200.0, KaplanMeier.Median([Reached(200), Reached(200), Censored(1000), Censored(1000)]));
    }

    [Fact]
    public void Intervals_of_calls_and_of_regret_never_go_below_zero()
    {
        // Skewed calls: a t-interval of the mean of [2, 4, 6, 240] goes far below zero; the bootstrap median's cannot.
        var calls = SeedBootstrap.Median([Reached(2), Reached(4), Reached(6), Reached(240)], 1000);
        Assert.Equal(5.0, calls.Median);
        Assert.InRange(calls.Lower!.Value, 2, 5);
        Assert.InRange(calls.Upper!.Value, 5, 240);
        // Regrets 0, 0, 0.3: mean 0.1, the t-interval is 0.1 +- 0.43, below zero; the bootstrap's lower end is 0.
        var regret = SeedMean.Of([0, 0, 0.3]);
        Assert.Equal(0.1, regret.Mean, 1e-15);
        Assert.Equal(0.0, regret.Lower);
        Assert.Equal(0.3, regret.Upper, 1e-15);
        // Half the seeds beyond the budget in enough resamples: the upper end is beyond the budget (null), not a number.
        var censored = SeedBootstrap.Median([Reached(10), Reached(20), Censored(1000), Censored(1000), Reached(30)], 1000);
        Assert.Equal(30.0, censored.Median);
        Assert.Null(censored.Upper);
        Assert.True(censored.Lower >= 10);
    }

    private const long Budget = 100_000;

    private static LearnerSummary Learner(string name, params CallsToEvent[] settled)
    {
        const long budget = Budget;
        var none = new SeedMean(0, 0, 0);
        return new LearnerSummary(name, settled.Length, [], none, none, settled, SeedBootstrap.Median(settled, budget), settled, SeedBootstrap.Median(settled, budget),
            0, 0, 0, 0, 0);
    }

    private static readonly CallsToEvent[] QCalls = [.. new long[] { 40_000, 44_000, 48_000, 50_000, 52_000, 54_000, 56_000, 60_000, 64_000, 70_000 }.Select(Reached)];
    private static readonly CallsToEvent[] PpoCalls = [.. new long[] { 1_500, 1_800, 1_900, 2_000, 2_100, 2_200, 2_300, 2_400, 2_600, 3_000 }.Select(Reached)];

    [Fact]
    public void The_headline_states_the_measured_ratio_and_which_learner_needs_more_calls()
    {
        // Medians 53,000 (midpoint of 52,000 and 54,000) and 2,150: Q-learning needs 24.65x more calls, printed as 25x.
        var ratio = ComparisonSummary.Ratio(Learner(LearnerNames.PpoSeed, PpoCalls), Learner(LearnerNames.QLearning, QCalls), 0.95);
        Assert.Equal(RatioKind.Measured, ratio.Kind);
        Assert.Equal(53_000.0 / 2_150, ratio.QOverPpo!.Value, 1e-12);
        Assert.StartsWith("Q-learning needs about 25x more calls than PPO (seed network) to settle at 95% of the oracle (95% interval ", ratio.Sentence);
        Assert.Contains("Kaplan-Meier median calls: Q-learning 53,000 (10/10 seeds settled), PPO (seed network) 2,150 (10/10 seeds settled)", ratio.Sentence);
        Assert.InRange(ratio.Lower!.Value, 10, ratio.QOverPpo.Value);
        Assert.InRange(ratio.Upper!.Value, ratio.QOverPpo.Value, 50);
        Assert.DoesNotContain("0.0x", ratio.Sentence);

        // The other way round, the sentence turns around rather than printing 0.04x.
        var reversed = ComparisonSummary.Ratio(Learner(LearnerNames.PpoSmall, QCalls), Learner(LearnerNames.QLearning, PpoCalls), 0.95);
        Assert.StartsWith("PPO (small network) needs about 25x more calls than Q-learning to settle", reversed.Sentence);
        Assert.Equal(2_150 / 53_000.0, reversed.QOverPpo!.Value, 1e-12);
    }

    [Fact]
    public void One_seed_gives_a_ratio_without_an_interval()
    {
        var ratio = ComparisonSummary.Ratio(Learner(LearnerNames.PpoSeed, Reached(2_000)), Learner(LearnerNames.QLearning, Reached(50_000)), 0.95);
        Assert.StartsWith("Q-learning needs about 25x more calls than PPO (seed network) to settle at 95% of the oracle (one seed, so no interval; ", ratio.Sentence);
        Assert.Null(ratio.Lower);
        Assert.Null(ratio.Upper);
    }

    [Fact]
    public void A_median_beyond_the_budget_makes_the_ratio_a_bound_and_says_so()
    {
        // Q-learning settled in 3 of 10 seeds within 100,000 calls: its median is beyond the budget, so Q-learning needs
        // more than 100,000 / 2,150 = 46.5x PPO's calls; the bound is rounded down so that it still holds.
        CallsToEvent[] q = [Reached(30_000), Reached(60_000), Reached(90_000), .. Enumerable.Repeat(Censored(Budget), 7)];
        var ratio = ComparisonSummary.Ratio(Learner(LearnerNames.PpoSeed, PpoCalls), Learner(LearnerNames.QLearning, q), 0.95);
        Assert.Equal(RatioKind.QLearningBeyondBudget, ratio.Kind);
        Assert.Equal(100_000 / 2_150.0, ratio.QOverPpo!.Value, 1e-12);
        Assert.StartsWith("Q-learning needs more than 46x more calls than PPO (seed network) to settle at 95% of the oracle: fewer than half its seeds settled within the budget", ratio.Sentence);
        Assert.Contains("Q-learning beyond 100,000 (3/10 seeds settled)", ratio.Sentence);

        CallsToEvent[] ppo = [.. Enumerable.Repeat(Censored(Budget), 10)];
        var neither = ComparisonSummary.Ratio(Learner(LearnerNames.PpoSeedSettings, ppo), Learner(LearnerNames.QLearning, q), 0.95);
        Assert.Equal(RatioKind.NeitherWithinBudget, neither.Kind);
        Assert.Null(neither.QOverPpo);
        Assert.StartsWith("Neither Q-learning nor PPO (seed network and settings) settled at 95% of the oracle in half its seeds within the budget", neither.Sentence);

        var ppoBeyond = ComparisonSummary.Ratio(Learner(LearnerNames.PpoSeedSettings, ppo), Learner(LearnerNames.QLearning, QCalls), 0.95);
        Assert.Equal(RatioKind.PpoBeyondBudget, ppoBeyond.Kind);
        Assert.StartsWith("PPO (seed network and settings) needs more than 1.8x more calls than Q-learning", ppoBeyond.Sentence);
    }

    [Theory]
    [InlineData(1667.4, "1,667x")]
    [InlineData(26.4, "26x")]
    [InlineData(3.24, "3.2x")]
    [InlineData(0.8, "0.8x")]
    [InlineData(0.0421, "0.042x")]
    [InlineData(0.000123, "0.00012x")]
    public void Ratios_keep_two_significant_digits(double ratio, string text) => Assert.Equal(text, ComparisonSummary.Times(ratio));
}
