using RLWorkbench.Tracking.Plots;

namespace RLWorkbench.Tracking.Tests;

public sealed class PlotTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void A_PPO_run_gets_its_learning_curve_diagnostics_and_dashboard_next_to_it()
    {
        var run = RunReader.Read(SyntheticRuns.Ppo(temp.Path, 1, Start));
        var result = RunPlotter.Plot(run);

        Assert.Equal(
            ["learning_curve.png", "losses.png", "entropy.png", "kl_clip.png", "explained_variance.png", "steps_per_second.png", "dashboard.png"],
            result.Files.Select(Path.GetFileName));
        Assert.All(result.Files, f => Assert.StartsWith(Path.Combine(run.Directory, "artifacts", "plots"), f));
        foreach (var file in result.Files)
            Png.AssertValid(file);
        Assert.Equal((1600, 1100), Png.AssertValid(result.Files[^1]));
        Assert.Empty(result.Notes);
        // The training curve is drawn in the first palette colour (partly under the evaluation band), the
        // evaluation curve in the second; a legend swatch alone is a few dozen pixels.
        Assert.True(Png.CountColour(result.Files[0], "#1f77b4") > 150, $"blue {Png.CountColour(result.Files[0], "#1f77b4")} orange {Png.CountColour(result.Files[0], "#ff7f0e")}");
        Assert.True(Png.CountColour(result.Files[0], "#ff7f0e") > 500);
        Assert.Equal(0, Png.CountColour(result.Files[0], "#2ca02c"));
    }

    [Fact]
    public void The_learning_curve_gives_training_and_evaluation_a_panel_each_so_both_fill_their_height_and_ends_with_the_final_evaluation()
    {
        var run = RunReader.Read(SyntheticRuns.EarlyPhase1Ppo(temp.Path, Start));
        var curve = RunPlotter.Plot(run).Files[0];
        Assert.Equal((1100, 1200), Png.AssertValid(curve));

        // Training (blue) only in the upper panel, evaluation (orange) only in the lower one.
        Assert.True(Png.CountColour(curve, "#1f77b4", 0, 600) > 500);
        Assert.Equal(0, Png.CountColour(curve, "#1f77b4", 600, 1200));
        Assert.Equal(0, Png.CountColour(curve, "#ff7f0e", 0, 600));
        Assert.True(Png.CountColour(curve, "#ff7f0e", 600, 1200) > 500);
        // 350 -> 480 and -650 -> -60 on one axis would each cross a fifth of it; here each climbs through most of its panel.
        Assert.InRange(Png.RowsWith(curve, "#1f77b4", 0, 600), 300, 600);
        Assert.InRange(Png.RowsWith(curve, "#ff7f0e", 600, 1200), 300, 600);
        // The final evaluation: a large red point with its +- std bar, in the lower panel.
        Assert.True(Png.CountColour(curve, "#d62728", 600, 1200) > 100);
        Assert.Equal(0, Png.CountColour(curve, "#d62728", 0, 600));
    }

    [Fact]
    public void The_evaluation_panel_says_whether_its_points_follow_policy_updates_or_repeat_a_policy_inside_a_rollout()
    {
        var afterUpdates = RunReader.Read(SyntheticRuns.EarlyPhase1Ppo(temp.Combine("after"), Start));
        Assert.Equal("Deterministic evaluation (mean action), on the same episodes each time, after policy updates",
            PpoPlots.EvaluationTitle(afterUpdates.Table("metrics"), afterUpdates.Table("eval")));
        var midRollout = RunReader.Read(SyntheticRuns.EarlyPhase1Ppo(temp.Combine("mid"), Start, [5000, 10000, 15000, 20000]));
        Assert.Equal("Deterministic evaluation (mean action), on the same episodes each time; points inside one rollout repeat its policy (stairs)",
            PpoPlots.EvaluationTitle(midRollout.Table("metrics"), midRollout.Table("eval")));
    }

    [Fact]
    public void A_PPO_run_on_the_Phase_1_base_environment_gets_the_fixed_policies_as_reference_lines()
    {
        var baseRun = RunReader.Read(SyntheticRuns.Phase1Ppo(temp.Combine("base"), 1, Start));
        var poolRun = RunReader.Read(SyntheticRuns.Phase1Ppo(temp.Combine("pool"), 1, Start, variant: "pool"));
        var notebookRun = RunReader.Read(SyntheticRuns.Phase1Ppo(temp.Combine("notebook"), 1, Start, layout: "notebook94"));
        var withLines = RunPlotter.Plot(baseRun).Files[0];
        var without = RunPlotter.Plot(poolRun).Files[0];
        var observationFree = RunPlotter.Plot(notebookRun).Files[0];
        Png.AssertValid(withLines);

        // One grey and dash pattern per reference, from random (lightest) to greedy with hidden expertise
        // (darkest); each line crosses the plot, so its row holds hundreds of its pixels.
        string[] greys = ["#a0a0a0", "#808080", "#505050", "#383838"];
        Assert.All(greys, g => Assert.InRange(Png.MostInOneRow(withLines, g), 150, 2000));
        Assert.All(greys, g => Assert.InRange(Png.MostInOneRow(without, g), 0, 60));
        // Under notebook94 only random and all-ones are drawn.
        Assert.Equal([true, true, false, false], greys.Select(g => Png.MostInOneRow(observationFree, g) >= 150));
    }

    [Fact]
    public void Reference_lines_hold_for_the_base_variant_with_4_agents_and_only_the_observation_free_ones_under_notebook94()
    {
        static Dictionary<string, string> Env(string variant, string layout, string agents) =>
            new() { ["environment.variant"] = variant, ["environment.layout"] = layout, ["environment.agents"] = agents };

        Assert.Equal(Phase1References.All, Phase1References.For(Env("base", "seed67", "4")));
        Assert.Equal([Phase1References.Random, Phase1References.AllOnes], Phase1References.For(Env("base", "notebook94", "4")));
        Assert.Empty(Phase1References.For(Env("pool", "seed67", "4")));
        Assert.Empty(Phase1References.For(Env("base", "seed67", "5")));
        Assert.Empty(Phase1References.For(new Dictionary<string, string> { ["seed"] = "1" }));
        Assert.Equal([Phase1References.Random, Phase1References.AllOnes], Phase1References.ForAll([Env("base", "seed67", "4"), Env("base", "notebook94", "4")]));
        Assert.Empty(Phase1References.ForAll([Env("base", "seed67", "4"), Env("pool", "seed67", "4")]));
        Assert.Equal([393.6, 1457.4, 1536.5, 1567.4], Phase1References.All.Select(r => r.MeanReturn));
    }

    [Fact]
    public void A_QLearning_run_gets_its_dashboard_load_state_counts_and_one_heatmap_of_its_table()
    {
        var run = RunReader.Read(SyntheticRuns.QLearn(temp.Path, Start));
        var result = RunPlotter.Plot(run);

        Assert.Equal(["dashboard.png", "load_states.png", "qtable.png"], result.Files.Select(f => Path.GetFileName(f)).ToList());
        Assert.Equal((2100, 1200), Png.AssertValid(result.Files[0]));
        // All 9 load-balanced states were visited: 9 rows of 45 pixels plus margins.
        Assert.Equal((900, 605), Png.AssertValid(result.Files[2]));
        Assert.Empty(result.Notes);
        // The tasks-per-agent bars are filled with the third palette colour.
        Assert.True(Png.CountColour(result.Files[0], "#2ca02c") > 5000);
        foreach (var file in result.Files)
            Png.AssertValid(file);
    }

    [Fact]
    public void A_base_table_is_drawn_once_whatever_load_states_the_run_passed_through()
    {
        var dir = SyntheticRuns.QLearn(temp.Path, Start);
        File.WriteAllText(Path.Combine(dir, "artifacts", "qtable.json"),
            """{"states":["code","math","research"],"actions":["researcher","analyst","coder","validator"],"values":[[0.1,0.2,0.3,0.4],[0.5,0.6,0.7,0.8],[0.2,0.1,0,0]]}""");
        var result = RunPlotter.Plot(RunReader.Read(dir));
        Assert.Equal(["dashboard.png", "load_states.png", "qtable.png"], result.Files.Select(f => Path.GetFileName(f)).ToList());
        Assert.Equal((900, 500), Png.AssertValid(result.Files[2]));
    }

    [Fact]
    public void A_chain_table_s_heatmap_shows_the_chains_the_run_routed_to_and_says_so()
    {
        var dir = SyntheticRuns.QLearn(temp.Path, Start);
        // A qlearn --chains 3 table: 248 chain columns, of which the synthetic run routed to actions 0..3 only. Drawn whole it
        // was 140 pixels a column, 35,020 pixels wide.
        var states = new[] { "code", "math", "research", "writing" };
        var actions = Enumerable.Range(0, 248).Select(i => $"researcher/openai>analyst/anthropic>c{i}/openai").ToArray();
        var values = states.Select(_ => actions.Select((_, a) => a < 4 ? 0.1 * (a + 1) : 0.0).ToArray()).ToArray();
        File.WriteAllText(Path.Combine(dir, "artifacts", "qtable.json"), System.Text.Json.JsonSerializer.Serialize(new { states, actions, values }));
        var result = RunPlotter.Plot(RunReader.Read(dir));
        Assert.Equal(["qtable.png shows the 4 of 248 chains the run routed to; the others are left out (a Q-table or bandit holds its initial 0 there, the composed learner its estimate from shared steps)."], result.Notes);
        var (width, _) = Png.AssertValid(result.Files[2]);
        Assert.Equal(900, width);
    }

    [Fact]
    public void A_load_balanced_heatmap_leaves_out_the_states_the_run_never_visited_and_says_so()
    {
        var dir = SyntheticRuns.QLearn(temp.Path, Start);
        var states = new[] { "code", "math", "research", "writing" }.SelectMany(t => new[] { "low-low", "low-high", "high-low" }.Select(l => $"{t}|{l}")).ToArray();
        var values = states.Select(_ => new[] { 0.1, 0.2, 0.3, 0.4 }).ToArray();
        File.WriteAllText(Path.Combine(dir, "artifacts", "qtable.json"),
            System.Text.Json.JsonSerializer.Serialize(new { states, actions = new[] { "researcher", "analyst", "coder", "validator" }, values }));
        var result = RunPlotter.Plot(RunReader.Read(dir));
        Assert.Equal(["qtable.png shows the 9 of 12 states the run visited; the others hold their initial 0."], result.Notes);
        Assert.Equal((900, 605), Png.AssertValid(result.Files[2]));
    }

    [Fact]
    public void A_bandit_table_is_labelled_as_sample_means_and_a_q_learning_one_as_q_values()
    {
        Assert.Equal(("Sample mean reward per state and action (ucb1; 0 where never tried)", "mean adjusted reward"),
            QLearningPlots.HeatmapLabels(new Dictionary<string, string> { ["algorithm"] = "ucb1" }));
        Assert.Equal(("Sample mean reward per state and action (thompson; 0 where never tried)", "mean adjusted reward"),
            QLearningPlots.HeatmapLabels(new Dictionary<string, string> { ["algorithm"] = "thompson" }));
        Assert.Equal(("Q-values per state and action", "Q-value (estimated discounted return)"),
            QLearningPlots.HeatmapLabels(new Dictionary<string, string> { ["algorithm"] = "q-learning" }));
        Assert.Equal(("Q-values per state and action", "Q-value (estimated discounted return)"), QLearningPlots.HeatmapLabels(new Dictionary<string, string>()));
        Assert.Equal(("Composed value per state and action (sum of its steps' posterior means)", "estimated adjusted reward"),
            QLearningPlots.HeatmapLabels(new Dictionary<string, string> { ["algorithm"] = "composed" }));
    }

    [Fact]
    public void Missing_tables_are_noted_and_the_rest_is_still_drawn()
    {
        var dir = SyntheticRuns.QLearn(temp.Path, Start, withQTable: false);
        var result = RunPlotter.Plot(RunReader.Read(dir));
        Assert.Equal(2, result.Files.Count);
        Assert.Contains("no artifacts/qtable.json: no Q-table heatmaps.", result.Notes);

        using (var empty = new RunStore(temp.Path) { Mirror = null }.Create("ppo", now: Start.AddDays(1)))
            empty.Finish(RunStatus.Failed);
        var none = RunPlotter.Plot(RunReader.Read(Path.Combine(temp.Path, "ppo-20250302-120000")));
        Assert.Empty(none.Files);
        Assert.Equal(3, none.Notes.Count);
    }

    [Fact]
    public void A_malformed_Q_table_is_one_sentence()
    {
        var dir = SyntheticRuns.QLearn(temp.Path, Start);
        File.WriteAllText(Path.Combine(dir, "artifacts", "qtable.json"), """{"states":["a"],"actions":["x","y"],"values":[[1]]}""");
        var e = Assert.Throws<RunFormatException>(() => RunPlotter.Plot(RunReader.Read(dir)));
        Assert.Equal("qtable.json has 1 states and 2 actions but its values are not a 1 x 2 table.", e.Message);
    }

    [Fact]
    public void A_plot_pass_that_fails_part_way_leaves_every_figure_as_it_was()
    {
        var dir = SyntheticRuns.QLearn(temp.Path, Start);
        var plots = Path.Combine(dir, "artifacts", "plots");
        Directory.CreateDirectory(plots);
        File.WriteAllText(Path.Combine(plots, "dashboard.png"), "the figure of an earlier pass");
        // The dashboard is drawn before the heatmaps, which then fail on the table.
        File.WriteAllText(Path.Combine(dir, "artifacts", "qtable.json"), """{"states":["a"],"actions":["x","y"],"values":[[1]]}""");
        Assert.Throws<RunFormatException>(() => RunPlotter.Plot(RunReader.Read(dir)));
        Assert.Equal("the figure of an earlier pass", File.ReadAllText(Path.Combine(plots, "dashboard.png")));
        Assert.Equal(["dashboard.png"], Directory.EnumerateFileSystemEntries(plots).Select(Path.GetFileName));
    }

    [Fact]
    public void A_fixed_policy_run_gets_the_dashboard_against_episodes()
    {
        var result = RunPlotter.Plot(RunReader.Read(SyntheticRuns.EnvRun(temp.Path, Start)));
        Png.AssertValid(Assert.Single(result.Files));
    }

    [Fact]
    public void Compare_groups_seeds_of_one_configuration_and_keeps_other_configurations_apart()
    {
        var seeds = Enumerable.Range(1, 3).Select(s => RunReader.Read(SyntheticRuns.Ppo(temp.Path, s, Start.AddMinutes(s)))).ToList();
        var other = RunReader.Read(SyntheticRuns.Ppo(temp.Path, 9, Start.AddHours(1)));
        using (var changed = new RunStore(temp.Path) { Mirror = null }.CreateIn(other.Directory + "-lr", "ppo", now: Start))
        {
            changed.WriteConfig(new { seed = 1, ppo = new { learningRate = 0.001, nSteps = 128 } });
            changed.Finish(RunStatus.Finished);
        }
        var lr = RunReader.Read(other.Directory + "-lr");
        var qlearn = RunReader.Read(SyntheticRuns.QLearn(temp.Path, Start.AddHours(2)));

        var groups = ComparePlotter.Group([.. seeds, other, lr, qlearn]);
        // Seed 9 shares the seeds' configuration; the learning-rate change does not.
        Assert.Equal([4, 1, 1], groups.Select(g => g.Runs.Count));
        Assert.Equal("ppo-20250301-120100", groups[0].Label);
        Assert.Equal(["ppo", "ppo", "qlearn"], groups.Select(g => g.Kind));

        var result = ComparePlotter.Compare([.. seeds, lr, qlearn], temp.Combine("compare.png"));
        var (_, height) = Png.AssertValid(Assert.Single(result.Files));
        Assert.Equal(3 * 600, height);
        Assert.Contains(result.Notes, n => n.Contains("no ep_rew_mean in metrics.csv", StringComparison.Ordinal));
    }

    [Fact]
    public void Compare_draws_reference_lines_on_the_PPO_panels_only_when_every_run_is_on_the_Phase_1_base_environment()
    {
        var seeds = Enumerable.Range(1, 3).Select(s => RunReader.Read(SyntheticRuns.Phase1Ppo(temp.Combine("base"), s, Start.AddMinutes(s)))).ToList();
        var pool = RunReader.Read(SyntheticRuns.Phase1Ppo(temp.Combine("pool"), 1, Start, variant: "pool"));

        var onBase = ComparePlotter.Compare(seeds, temp.Combine("base.png"));
        Assert.Empty(onBase.Notes);
        var mixed = ComparePlotter.Compare([.. seeds, pool], temp.Combine("mixed.png"));
        Assert.Equal(
            ["'PPO training reward' has no reference lines: not every run in it is on the Phase 1 base environment with 4 agents.",
             "'PPO evaluation reward' has no reference lines: not every run in it is on the Phase 1 base environment with 4 agents."],
            mixed.Notes);
        // The greedy line (densely dashed dark grey) crosses the PPO panels of the base runs only.
        Assert.InRange(Png.MostInOneRow(onBase.Files[0], "#505050"), 150, 3000);
        Assert.InRange(Png.MostInOneRow(mixed.Files[0], "#505050"), 0, 60);
    }

    [Fact]
    public void Moving_average_averages_what_the_window_holds_and_skips_gaps()
    {
        Assert.Equal([1.0, 1.5, 2.0, 3.0, 4.0], SeriesMath.MovingAverage([1, 2, 3, 4, 5], 3));
        Assert.Equal([2.0, 2.0, 6.0, 6.0], SeriesMath.MovingAverage([2, double.NaN, 6, 6], 2));
        Assert.True(double.IsNaN(SeriesMath.MovingAverage([double.NaN, 1], 1)[0]));
        Assert.Equal([1.0, 2.0], SeriesMath.MovingAverage([1, 2], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SeriesMath.MovingAverage([1], 0));
    }

    [Fact]
    public void Mean_band_over_seeds_is_the_mean_and_sample_std_on_the_shared_steps()
    {
        var band = SeriesMath.MeanBand(
        [
            ([0, 10, 20, 30], [0, 2, 4, 6]),
            ([0, 10, 20], [2, 4, 8]),
            ([5, 15, 25], [1, 3, 5]),
        ]);
        // Shared range is 5..20; the grid is the first run's steps in it; the third run is interpolated.
        Assert.Equal([10.0, 20.0], band.X);
        // At 10: 2, 4 and 2 (midway between 1 and 3); at 20: 4, 8 and 4 (midway between 3 and 5).
        Assert.Equal([8.0 / 3, 16.0 / 3], band.Mean, new ToleranceComparer(1e-12));
        Assert.Equal([Math.Sqrt(4.0 / 3), Math.Sqrt(16.0 / 3)], band.Std, new ToleranceComparer(1e-12));
        Assert.Equal([8.0 / 3 - Math.Sqrt(4.0 / 3), 16.0 / 3 - Math.Sqrt(16.0 / 3)], band.Lower, new ToleranceComparer(1e-12));
        Assert.Equal([8.0 / 3 + Math.Sqrt(4.0 / 3), 16.0 / 3 + Math.Sqrt(16.0 / 3)], band.Upper, new ToleranceComparer(1e-12));
        Assert.Equal(3, band.Runs);

        var single = SeriesMath.MeanBand([([1, 2], [5, 7])]);
        Assert.Equal([0.0, 0.0], single.Std);
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }

    [Fact]
    public void A_compare_run_gets_reward_against_calls_and_calls_to_threshold_from_its_tables()
    {
        var run = RunReader.Read(SyntheticCompareRun.Write(temp.Path, Start));
        var result = RunPlotter.Plot(run);

        Assert.Equal(["reward_vs_calls.png", "calls_to_threshold.png"], result.Files.Select(Path.GetFileName));
        Assert.Empty(result.Notes);
        foreach (var file in result.Files)
            Png.AssertValid(file);
    }

    [Theory]
    // Q-learning and the oracle once shared the palette's first blue (the tenth learner wrapped round an 8-colour palette).
    [InlineData("#1f77b4")]
    [InlineData("#d62728")]
    // Random, round-robin and least-recently-used have one and the same curve; each must still show.
    [InlineData("#bcbd22")]
    [InlineData("#17becf")]
    [InlineData("#7f7f7f")]
    public void Every_compare_learner_has_a_colour_of_its_own_that_shows_in_the_reward_figure(string colour)
    {
        var run = RunReader.Read(SyntheticCompareRun.Write(temp.Path, Start));
        var result = RunPlotter.Plot(run);
        Assert.True(Png.CountColour(result.Files[0], colour) > 200, $"{colour}: {Png.CountColour(result.Files[0], colour)} pixels");
    }

    [Fact]
    public void An_older_compare_run_without_the_settled_medians_still_gets_its_reward_curve_and_a_note()
    {
        var run = RunReader.Read(SyntheticCompareRun.Write(temp.Path, Start, withMedians: false));
        var result = RunPlotter.Plot(run);

        Assert.Equal(["reward_vs_calls.png"], result.Files.Select(Path.GetFileName));
        Assert.Contains(result.Notes, n => n.Contains("no calls-to-threshold figure", StringComparison.Ordinal));
    }
}
