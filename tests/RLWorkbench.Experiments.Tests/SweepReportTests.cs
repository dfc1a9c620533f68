using System.Globalization;
using System.Text.Json.Nodes;
using RLWorkbench.Experiments.Sweeps;
using RLWorkbench.Tracking.Tests;

namespace RLWorkbench.Experiments.Tests;

public sealed class SweepReportTests
{
    // t(0.975, n-1) for n = 2 and 5 in closed form (StatisticsTests checks them against the quantile).
    private static readonly double T1 = Math.Tan(0.475 * Math.PI);
    private const double T4 = 2.7764451051977934;

    /// <summary>
    /// Four learning rates x seeds 0-4: c00 all finished; c01 two finished, two failed (one a KL runaway, one
    /// killed before its first update), one stopped; c02 one finished, one stopped, three never started; c03 none started.
    /// </summary>
    private static SyntheticSweep LrScan()
    {
        var sweep = new SyntheticSweep("ppo.learningRate", [0.0003, 0.001, 0.01, 0.1], [0, 1, 2, 3, 4]);
        for (var s = 0; s < 5; s++)
        {
            sweep.Write("c00", s, TrialState.Finished, final: 1400 + 10 * s, best: 1450 + 10 * s, perSecond: 2500 + 100 * s,
                curve: [(5000, 400 + s), (10000, 800 + s), (20000, 1200 + s)],
                approxKl: [0.01, 0.03 + 0.01 * s],
                milestones: [(10240, 900 + s), (20480, 1400 + 10 * s)]);
        }
        sweep.Write("c01", 0, TrialState.Finished, final: 1500, best: 1510, perSecond: 2400, curve: [(5000, 500), (10000, 900), (20000, 1300)], approxKl: [0.02, 0.05], milestones: [(10240, 1000), (20480, 1500)]);
        sweep.Write("c01", 1, TrialState.Finished, final: 1520, best: 1530, perSecond: 2600, curve: [(5000, 540), (10000, 940), (20000, 1340)], approxKl: [0.02, 0.97], milestones: [(10240, 1100), (20480, 1520)]);
        sweep.Write("c01", 2, TrialState.Failed, best: 1490, curve: [(5000, 500), (10000, 900)], approxKl: [0.05, 1.0, 56.0], message: "training diverged: the policy loss is NaN at step 12288");
        sweep.Write("c01", 3, TrialState.Failed, message: "the worker ended without recording an end (exit code 137); its log: trials/c01-seed3/trial.log");
        sweep.Write("c01", 4, TrialState.Killed, curve: [(5000, 480)], approxKl: [0.04], message: "stopped by SIGTERM");
        sweep.Write("c02", 0, TrialState.Finished, final: 1000, best: 1005, perSecond: 2550, curve: [(5000, 300), (20000, 1000)], approxKl: [0.02], milestones: [(10240, 700), (20480, 1000)]);
        sweep.Write("c02", 1, TrialState.Killed, curve: [(5000, 310)], approxKl: [0.03]);
        return sweep;
    }

    [Fact]
    public void Configurations_are_counted_censored_and_ranked_with_t_intervals_over_finished_seeds()
    {
        using var sweep = LrScan();
        var summary = SweepSummary.Read(sweep.Directory, sweep.Manifest);

        Assert.Equal(["c01", "c00", "c02", "c03"], summary.Configurations.Select(c => c.Configuration.Key));
        Assert.Equal([1, 2, 3, (int?)null], summary.Configurations.Select(c => c.Rank));
        Assert.Equal([(2, 2, 1), (5, 0, 0), (1, 0, 4), (0, 0, 5)], summary.Configurations.Select(c => (c.Finished, c.Failed, c.NotFinished)));

        var c00 = summary.Configurations[1];
        Assert.Equal(1420.0, c00.Final.Mean, 1e-9);
        // Finals 1400..1440: s = sqrt(250), s / sqrt(5) = sqrt(50).
        Assert.Equal(1420 - T4 * Math.Sqrt(50), c00.Final.Lower, 1e-9);
        Assert.Equal(1420 + T4 * Math.Sqrt(50), c00.Final.Upper, 1e-9);
        Assert.Equal(2700.0, c00.WorkPerSecond.Mean, 1e-9);
        // Trapezoid over (5000, 400+s), (10000, 800+s), (20000, 1200+s): (3e6 + 1e7) / 15000 + s; mean over s = 0..4 adds 2.
        Assert.Equal(13_000_000.0 / 15_000 + 2, c00.AreaUnderCurve.Mean, 1e-9);
        Assert.Equal(13_000_000.0 / 15_000 + 2 - T4 * Math.Sqrt(0.5), c00.AreaUnderCurve.Lower, 1e-9);

        var c01 = summary.Configurations[0];
        Assert.Equal(new[] { 1510.0, 1510 - 10 * T1, 1510 + 10 * T1 }, new[] { c01.Final.Mean, c01.Final.Lower, c01.Final.Upper }, new ToleranceComparer(1e-9));
        // Curve means 2900/3 and 3020/3 (the second seed runs 40 higher throughout).
        Assert.Equal(2960.0 / 3 + 20 * T1, c01.AreaUnderCurve.Upper, 1e-9);
        Assert.Equal(2, c01.Final.Count);
        // Best is over finished seeds only: the failed seed's 1490 is not in it.
        Assert.Equal(1520.0, c01.Best.Mean, 1e-9);
        Assert.Equal(2500.0 + 100 * T1, c01.WorkPerSecond.Upper, 1e-9);

        var c02 = summary.Configurations[2];
        Assert.Equal((1000.0, 1), (c02.Final.Mean, c02.Final.Count));
        Assert.False(c02.Final.HasInterval);
        Assert.Equal(0, summary.Configurations[3].Final.Count);
    }

    [Fact]
    public void Milestones_and_kl_runaways_are_summarised_per_configuration()
    {
        using var sweep = LrScan();
        var summary = SweepSummary.Read(sweep.Directory, sweep.Manifest);
        Assert.Equal([10000L], summary.Milestones);
        Assert.True(summary.HasApproxKl);
        var byKey = summary.Configurations.ToDictionary(c => c.Configuration.Key);

        var c00 = byKey["c00"].Milestones.Single();
        Assert.Equal((902.0, 5), (c00.Mean, c00.Count));
        Assert.Equal(902 + T4 * Math.Sqrt(0.5), c00.Upper, 1e-9);
        var c01 = byKey["c01"].Milestones.Single();
        Assert.Equal(1050.0, c01.Mean);
        Assert.Equal(1050 - 50 * T1, c01.Lower, 1e-9);
        Assert.Equal(1, byKey["c02"].Milestones.Single().Count);

        Assert.Equal((0.07, 0, 5), (byKey["c00"].MaxApproxKl!.Value, byKey["c00"].Runaways, byKey["c00"].KlTrials), new KlComparer());
        // Seeds 1 (0.97) and 2 (56) ran away; seed 3 logged no metrics, so 4 trials were checked.
        Assert.Equal((56.0, 2, 4), (byKey["c01"].MaxApproxKl!.Value, byKey["c01"].Runaways, byKey["c01"].KlTrials));
        Assert.Equal((null, 0, 0), (byKey["c03"].MaxApproxKl, byKey["c03"].Runaways, byKey["c03"].KlTrials));
    }

    [Fact]
    public void The_area_under_the_curve_is_the_trapezoid_mean_over_the_x_range()
    {
        // (0,0)-(1,2): area 1; (1,2)-(4,2): area 6; over width 4.
        Assert.Equal(7.0 / 4, ReportedTrial.MeanOverRange([0, 1, 4], [0, 2, 2]));
        Assert.Equal(5.0, ReportedTrial.MeanOverRange([3], [5]));
        Assert.Null(ReportedTrial.MeanOverRange([], []));
    }

    [Fact]
    public void Report_md_and_csv_hold_the_same_numbers()
    {
        using var sweep = LrScan();
        var result = SweepReport.Write(sweep.Directory);

        Assert.Equal(Path.Combine(sweep.Directory, "report.md"), result.MarkdownPath);
        Assert.Equal(result.Markdown, sweep.Read("report.md"));
        var md = result.Markdown;
        Assert.Contains("ppo sweep from `experiments/sweep-lr.json`, created 2025-03-01 12:00 UTC: 4 configurations x 5 seeds (0-4) = 20 trials; 8 finished, 2 failed, 10 not finished.", md);
        Assert.Contains("| rank | configuration | finished / failed / not finished | final | best | AUC (curve mean) | steps/s | eval at 10,000 steps (100 episodes) | max approx_kl | runaways (approx_kl > 0.5) |", md);
        Assert.Contains("| 1 | `c01` ppo.learningRate=0.001 | 2 / 2 / 1 | 1510.0 [1382.9, 1637.1] | 1520.0 [1392.9, 1647.1] | 986.7 [732.5, 1240.8] | 2500.0 [1229.4, 3770.6] | 1050.0 [414.7, 1685.3] | 56.00 | 2 of 4 |", md);
        Assert.Contains("| 2 | `c00` ppo.learningRate=0.0003 | 5 / 0 / 0 | 1420.0 [1400.4, 1439.6] | 1470.0 [1450.4, 1489.6] | 868.7 [866.7, 870.6] | 2700.0 [2503.7, 2896.3] | 902.0 [900.0, 904.0] | 0.07000 | 0 of 5 |", md);
        Assert.Contains("| 3 | `c02` ppo.learningRate=0.01 | 1 / 0 / 4 | 1000.0 (n=1) | 1005.0 (n=1) | 650.0 (n=1) | 2550.0 (n=1) | 700.0 (n=1) | 0.03000 | 0 of 2 |", md);
        Assert.Contains("| - | `c03` ppo.learningRate=0.1 | 0 / 0 / 5 | - | - | - | - | - | - | - |", md);
        Assert.Contains("| c01-seed2 | `c01` | 2 | failed | - | 1490.0 | 700.0 | - | - | 56.00 (runaway) | training diverged: the policy loss is NaN at step 12288 |", md);
        Assert.Contains("| c01-seed4 | `c01` | 4 | stopped | - | - | 480.0 | - | - | 0.04000 | stopped by SIGTERM |", md);
        Assert.Contains("| c03-seed0 | `c03` | 0 | not started | - | - | - | - | - | - |  |", md);
        Assert.Contains("| c00-seed4 | `c00` | 4 | finished | 1440.0 | 1490.0 | 870.7 | 2900.0 | 904.0 (at 10,240) | 0.07000 |  |", md);
        Assert.Contains("Not drawn: c03 ppo.learningRate=0.1: no curve to draw (no finished seed with points).", md);
        Assert.Contains("![learning curves](learning_curves.png)", md);

        var lines = sweep.Read("report.csv").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        Assert.Equal(
            "rank,key,label,ppo.learningRate,trials,finished,failed,not_finished,"
            + "final_mean,final_lower95,final_upper95,final_n,best_mean,best_lower95,best_upper95,best_n,"
            + "auc_mean,auc_lower95,auc_upper95,auc_n,work_per_second_mean,work_per_second_lower95,work_per_second_upper95,work_per_second_n,"
            + "eval_at_10000_mean,eval_at_10000_lower95,eval_at_10000_upper95,eval_at_10000_n,max_approx_kl,runaways,kl_trials",
            lines[0]);
        var c01 = lines[1].Split(',');
        Assert.Equal(["1", "c01", "ppo.learningRate=0.001", "0.001", "5", "2", "2", "1"], c01[..8]);
        Assert.Equal([1510, 1510 - 10 * T1, 1510 + 10 * T1, 2], c01[8..12].Select(Parse), new ToleranceComparer(1e-9));
        Assert.Equal([1050, 1050 - 50 * T1, 1050 + 50 * T1, 2], c01[24..28].Select(Parse), new ToleranceComparer(1e-9));
        Assert.Equal(["56", "2", "4"], c01[28..]);
        Assert.Equal("3,c02,ppo.learningRate=0.01,0.01,5,1,0,4,1000,,,1,1005,,,1,650,,,1,2550,,,1,700,,,1,0.03,0,2", lines[3]);
        Assert.Equal(",c03,ppo.learningRate=0.1,0.1,5,0,0,5,,,,0,,,,0,,,,0,,,,0,,,,0,,0,0", lines[4]);
    }

    [Fact]
    public void The_figure_draws_each_configuration_with_reference_lines()
    {
        using var sweep = LrScan();
        var result = SweepReport.Write(sweep.Directory);

        Assert.Equal(Path.Combine(sweep.Directory, "learning_curves.png"), result.FigurePath);
        var (width, height) = Png.AssertValid(result.FigurePath!, 1200, 600);
        Assert.Equal((1700, 850), (width, height));
        // c00 and c01 are drawn in the first two palette colours, lines and bands; c03 has nothing to draw.
        Assert.InRange(Png.CountColour(result.FigurePath!, "#1f77b4"), 800, int.MaxValue);
        Assert.InRange(Png.CountColour(result.FigurePath!, "#ff7f0e"), 800, int.MaxValue);
        Assert.Equal(["random actions", "all ones (assign all, always collaborate)", "greedy on visible expertise", "greedy with hidden expertise"], SweepReport.References(sweep.Manifest).Select(r => r.Label));
    }

    [Fact]
    public void Reference_lines_apply_only_to_ppo_on_the_phase1_base_variant_with_four_agents()
    {
        using var pool = new SyntheticSweep("ppo.learningRate", [0.001], [0], SyntheticSweep.PpoConfiguration(variant: "pool"));
        Assert.Empty(SweepReport.References(pool.Manifest));
        using var fiveAgents = new SyntheticSweep("ppo.learningRate", [0.001], [0], SyntheticSweep.PpoConfiguration(agents: 5));
        Assert.Empty(SweepReport.References(fiveAgents.Manifest));
        using var notebook = new SyntheticSweep("ppo.learningRate", [0.001], [0], SyntheticSweep.PpoConfiguration(layout: "notebook94"));
        Assert.Equal(["random actions", "all ones (assign all, always collaborate)"], SweepReport.References(notebook.Manifest).Select(r => r.Label));
        // A sweep that varies the variant mixes environments: no line fits all of them.
        using var mixed = new SyntheticSweep("environment.variant", ["base", "pool"], [0]);
        Assert.Empty(SweepReport.References(mixed.Manifest));
        using var qlearn = new SyntheticSweep("alpha", [0.1], [0], JsonNode.Parse("""{ "alpha": 0.1, "seed": 1 }""")!.AsObject(), "qlearn");
        Assert.Empty(SweepReport.References(qlearn.Manifest));
    }

    [Fact]
    public void One_seed_is_shown_as_n_equals_1_without_an_interval()
    {
        using var sweep = new SyntheticSweep("ppo.learningRate", [0.0003, 0.001], [7], SyntheticSweep.PpoConfiguration(milestones: false));
        sweep.Write("c00", 7, TrialState.Finished, final: 1300, best: 1350, perSecond: 2000, curve: [(5000, 500), (20000, 1100)]);
        sweep.Write("c01", 7, TrialState.Finished, final: 1300, best: 1310, perSecond: 2100, curve: [(5000, 600), (20000, 1200)]);
        var result = SweepReport.Write(sweep.Directory);

        // Equal means share a rank; the key orders them.
        Assert.Contains("| 1 | `c00` ppo.learningRate=0.0003 | 1 / 0 / 0 | 1300.0 (n=1) | 1350.0 (n=1) | 800.0 (n=1) | 2000.0 (n=1) |", result.Markdown);
        Assert.Contains("| 1 | `c01` ppo.learningRate=0.001 | 1 / 0 / 0 | 1300.0 (n=1) |", result.Markdown);
        Assert.DoesNotContain("approx_kl", result.Markdown);
        Assert.DoesNotContain("eval at", result.Markdown);
        Assert.Equal("1,c00,ppo.learningRate=0.0003,0.0003,1,1,0,0,1300,,,1,1350,,,1,800,,,1,2000,,,1", sweep.Read("report.csv").Split('\n')[1]);
        Png.AssertValid(result.FigurePath!, 1200, 600);
    }

    [Fact]
    public void A_sweep_without_a_finished_trial_has_no_figure()
    {
        using var sweep = new SyntheticSweep("ppo.learningRate", [0.0003], [0, 1]);
        File.WriteAllText(Path.Combine(sweep.Directory, "learning_curves.png"), "stale");
        sweep.Write("c00", 0, TrialState.Running, curve: [(5000, 500)]);
        sweep.Write("c00", 1, TrialState.Failed, message: "out of memory");
        var result = SweepReport.Write(sweep.Directory);

        Assert.Null(result.FigurePath);
        Assert.False(File.Exists(Path.Combine(sweep.Directory, "learning_curves.png")));
        Assert.Contains("| - | `c00` ppo.learningRate=0.0003 | 0 / 1 / 1 | - |", result.Markdown);
        Assert.Contains("| c00-seed0 | `c00` | 0 | running (or its worker died) |", result.Markdown);
        Assert.Contains("- **Figure**: none; no finished trial has a learning curve yet.", result.Markdown);
    }

    [Fact]
    public void A_directory_that_is_not_a_sweep_is_one_sentence_and_nothing_is_written()
    {
        var root = Path.Combine(Path.GetTempPath(), "rlw-report-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            var missing = Path.Combine(root, "nowhere");
            Assert.Equal($"there is no directory '{missing}'; give a sweep directory (one holding sweep.json).", Assert.Throws<ExperimentConfigException>(() => SweepReport.Write(missing)).Message);
            Assert.Equal($"'{root}' is not a sweep directory (it has no sweep.json).", Assert.Throws<ExperimentConfigException>(() => SweepReport.Write(root)).Message);
            File.WriteAllText(Path.Combine(root, "sweep.json"), "{ not json");
            var error = Assert.Throws<ExperimentConfigException>(() => SweepReport.Write(root)).Message;
            Assert.StartsWith($"{Path.Combine(root, "sweep.json")} cannot be read as a sweep (", error);
            Assert.Equal(["sweep.json"], Directory.EnumerateFileSystemEntries(root).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void A_finished_trial_without_a_final_score_is_censored_and_named()
    {
        using var sweep = new SyntheticSweep("ppo.learningRate", [0.0003], [0, 1]);
        sweep.Write("c00", 0, TrialState.Finished, final: 1200, best: 1250, perSecond: 2000, curve: [(5000, 500), (20000, 1100)]);
        sweep.Write("c00", 1, TrialState.Finished, final: 1300, best: 1350, perSecond: 2000, curve: [(5000, 500), (20000, 1100)]);
        File.Delete(Path.Combine(SweepLayout.TrialDirectory(sweep.Directory, sweep.Trial("c00", 1)), "scores.json"));
        var summary = SweepSummary.Read(sweep.Directory, sweep.Manifest);

        Assert.Equal((1, 0, 1), (summary.Configurations[0].Finished, summary.Configurations[0].Failed, summary.Configurations[0].NotFinished));
        Assert.Equal(["c00-seed1 is finished but has no readable scores.json; it is counted as not finished."], summary.Problems);
    }

    [Fact]
    public void Ppo_sweeps_on_the_seed67_base_environment_show_ep_rew_mean_at_SB3s_reference_steps()
    {
        using var sweep = new SyntheticSweep("ppo.learningRate", [0.0003], [0, 1]);
        foreach (var seed in new long[] { 0, 1 })
        {
            sweep.Write("c00", seed, TrialState.Finished, final: 1400, best: 1450, perSecond: 3000, curve: [(5000, 500), (20000, 1100)]);
            // Rollout ends every 8,192 steps up to 98,304; ep_rew_mean = step / 100 + 10 x seed.
            var directory = SweepLayout.TrialDirectory(sweep.Directory, sweep.Trial("c00", seed));
            File.WriteAllLines(Path.Combine(directory, "metrics.csv"),
                ["step,time_s,ep_rew_mean,approx_kl", .. Enumerable.Range(1, 12).Select(k => $"{8192 * k},{k},{8192 * k / 100.0 + 10 * seed},0.01")]);
        }
        var summary = SweepSummary.Read(sweep.Directory, sweep.Manifest);

        Assert.Equal(15, summary.ReferenceSteps!.Count);
        var returns = summary.Configurations[0].TrainingReturns!;
        // 32,768, 65,536 and 98,304 are rollout ends: seeds 327.68 and 337.68, mean 332.68; later steps were never reached.
        Assert.Equal([332.68, 660.36, 988.04], returns.Take(3).Select(e => Math.Round(e.Mean, 2)));
        Assert.All(returns.Take(3), e => Assert.Equal(2, e.Count));
        Assert.All(returns.Skip(3), e => Assert.Equal(0, e.Count));
        var markdown = SweepReport.Write(sweep.Directory).Markdown;
        Assert.Contains("## Training return against SB3's seed-configuration curve", markdown);
        Assert.Contains("| SB3 2.4.1, seed 0 | 364 | 415 | 491 | 581 |", markdown);
        var csv = File.ReadAllLines(Path.Combine(sweep.Directory, SweepLayout.ReportCsv));
        Assert.Contains("ep_rew_mean_at_32768_mean", csv[0]);

        // A sweep that never reaches 32,768 steps gets no such columns.
        using var short_ = new SyntheticSweep("ppo.learningRate", [0.0003], [0]);
        short_.Write("c00", 0, TrialState.Finished, final: 1400, best: 1450, perSecond: 3000, curve: [(5000, 500)], approxKl: [0.01, 0.02]);
        Assert.Empty(SweepSummary.Read(short_.Directory, short_.Manifest).ReferenceSteps!);
    }

    private static double Parse(string cell) => double.Parse(cell, CultureInfo.InvariantCulture);

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }

    private sealed class KlComparer : IEqualityComparer<(double, int, int)>
    {
        public bool Equals((double, int, int) x, (double, int, int) y) => Math.Abs(x.Item1 - y.Item1) < 1e-12 && x.Item2 == y.Item2 && x.Item3 == y.Item3;

        public int GetHashCode((double, int, int) obj) => 0;
    }
}
