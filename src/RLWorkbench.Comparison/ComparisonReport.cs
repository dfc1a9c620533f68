using System.Globalization;
using System.Text;
using RLWorkbench.Tracking;
using ScottPlot;

namespace RLWorkbench.Comparison;

/// <summary>
/// Writes a comparison into its run directory: per-seed and summary CSV tables, the oracle's table, a markdown report
/// with the headline ratio, and two plots (reward against calls; calls to the threshold).
/// </summary>
public static class ComparisonReport
{
    public const string Kind = "compare";

    private static readonly Color[] Palette =
    [
        Color.FromHex("#1f77b4"), Color.FromHex("#ff7f0e"), Color.FromHex("#2ca02c"), Color.FromHex("#d62728"),
        Color.FromHex("#9467bd"), Color.FromHex("#8c564b"), Color.FromHex("#e377c2"), Color.FromHex("#7f7f7f"),
        Color.FromHex("#17becf"),
    ];

    public sealed record Written(IReadOnlyList<LearnerSummary> Summaries, IReadOnlyList<HeadlineRatio> Headlines, string Markdown);

    public static Written Write(Run run, ComparisonResult result, double totalWallSeconds)
    {
        var summaries = ComparisonSummary.Summarise(result);
        var headlines = Headlines(result, summaries);
        WriteTables(run, result, summaries);
        WriteOracle(run, result);
        var markdown = Markdown(result, summaries, headlines, totalWallSeconds);
        AtomicFile.WriteAllText(Path.Combine(run.Directory, "summary.md"), markdown);
        PlotRewardAgainstCalls(result, summaries, run.ArtifactPath("reward-vs-calls.png"));
        PlotCallsToThreshold(result, summaries, run.ArtifactPath("calls-to-threshold.png"));
        return new Written(summaries, headlines, markdown);
    }

    public static IReadOnlyList<HeadlineRatio> Headlines(ComparisonResult result, IReadOnlyList<LearnerSummary> summaries)
    {
        var q = summaries.FirstOrDefault(s => s.Learner == LearnerNames.QLearning);
        if (q is null)
            return [];
        return summaries.Where(s => LearnerNames.IsPpo(s.Learner))
            .Select(p => ComparisonSummary.Ratio(p, q, result.Checkpoints[^1], result.Options.ThresholdFraction))
            .ToList();
    }

    private static string F(double v, string format = "R") => double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "";

    private static void WriteTables(Run run, ComparisonResult result, IReadOnlyList<LearnerSummary> summaries)
    {
        var curves = run.Table("curves", ["learner", "seed", "calls", "expected_reward"]);
        foreach (var r in result.Runs)
        {
            for (var i = 0; i < result.Checkpoints.Length; i++)
                curves.AppendRow(r.Learner, r.Seed, result.Checkpoints[i], r.Values[i]);
        }
        var curveSummary = run.Table("curve_summary", ["learner", "calls", "mean", "lower95", "upper95", "seeds"]);
        foreach (var s in summaries)
        {
            for (var i = 0; i < result.Checkpoints.Length; i++)
                curveSummary.AppendRow(s.Learner, result.Checkpoints[i], s.Curve[i].Mean, F(s.Curve[i].Lower), F(s.Curve[i].Upper), s.Seeds);
        }
        var seeds = run.Table("seeds", ["learner", "seed", "calls_to_threshold", "calls_spent", "dollars", "wall_s", "final_expected_reward", "final_regret",
            "final_imbalance", "parse_failures", "learned_parameters", "final_policy"]);
        foreach (var r in result.Runs)
        {
            var reached = ComparisonSummary.CallsToThreshold(r.Values, result.Checkpoints, result.Threshold);
            var policy = r.FinalTable is null ? "" : string.Join(' ', r.FinalTable.Select((a, s) => $"{result.Problem.StateLabel(s)}={result.Problem.ActionLabel(a)}"));
            seeds.AppendRow(r.Learner, r.Seed, reached?.ToString(CultureInfo.InvariantCulture) ?? "", r.CallsSpent, r.DollarsSpent, r.WallSeconds,
                r.Values[^1], result.OracleValue - r.Values[^1], result.Problem.LoadBalanced ? r.FinalImbalance : "", r.ParseFailures, r.LearnedParameters, policy);
        }
        var summary = run.Table("summary", ["learner", "seeds", "learned_parameters", "final_expected_reward", "final_lower95", "final_upper95",
            "final_regret", "regret_lower95", "regret_upper95", "seeds_reached", "calls_to_threshold_mean", "calls_to_threshold_lower95",
            "calls_to_threshold_upper95", "dollars_mean", "wall_s_mean", "final_imbalance_mean", "parse_failures"]);
        foreach (var s in summaries)
        {
            summary.AppendRow(s.Learner, s.Seeds, s.LearnedParameters, s.FinalValue.Mean, F(s.FinalValue.Lower), F(s.FinalValue.Upper),
                s.FinalRegret.Mean, F(s.FinalRegret.Lower), F(s.FinalRegret.Upper), s.SeedsReached, F(s.CallsToThresholdReached.Mean),
                F(s.CallsToThresholdReached.Lower), F(s.CallsToThresholdReached.Upper), s.Dollars.Mean, s.WallSeconds.Mean,
                result.Problem.LoadBalanced ? F(s.FinalImbalance.Mean) : "", s.ParseFailures);
        }
    }

    private static void WriteOracle(Run run, ComparisonResult result)
    {
        var problem = result.Problem;
        var types = Enumerable.Range(0, RoutingProblem.TypeCount).ToArray();
        run.WriteJson("oracle.json", new
        {
            OracleValue = result.OracleValue,
            Threshold = result.Threshold,
            ThresholdFraction = result.Options.ThresholdFraction,
            Method = "exact: judge scores as rounded clipped normals convolved, token and latency laws in closed form (docs/compare.md)",
            TypeProbabilities = types.ToDictionary(t => Routing.Core.RoutingNames.TaskTypes[t].ToString().ToLowerInvariant(), t => problem.TypeProbabilities[t]),
            ExpectedRewardNoPenalty = types.ToDictionary(
                t => Routing.Core.RoutingNames.TaskTypes[t].ToString().ToLowerInvariant(),
                t => Enumerable.Range(0, problem.ActionCount).ToDictionary(a => problem.ActionLabel(a), a => result.Model.Expected(t, a))),
            BestActionPerType = types.ToDictionary(t => Routing.Core.RoutingNames.TaskTypes[t].ToString().ToLowerInvariant(), t => problem.ActionLabel(result.Model.BestAction(t))),
        });
    }

    public static string Markdown(ComparisonResult result, IReadOnlyList<LearnerSummary> summaries, IReadOnlyList<HeadlineRatio> headlines, double totalWallSeconds)
    {
        var o = result.Options;
        var budget = result.Checkpoints[^1];
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"# Comparison: {o.Problem.Kind} routing problem, {budget:N0} LLM calls per learner and seed, {o.Seeds} seeds");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Oracle expected reward per task: {result.OracleValue:0.0000}; threshold ({o.ThresholdFraction * 100:0.#}%): {result.Threshold:0.0000}. "
            + $"Expected rewards are exact (computed from the profile), for each learner's greedy policy at each checkpoint. Total wall time {totalWallSeconds:0.0} s.");
        sb.AppendLine();
        if (result.Backend != "simulated")
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"Backend: {result.Backend}. The learners trained on those answers; their greedy policies are still valued against the simulation profile, which models the providers but is not them.");
            sb.AppendLine();
        }
        if (result.StoppedEarly is not null)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"Stopped early: {result.StoppedEarly}");
            sb.AppendLine();
        }
        foreach (var h in headlines)
            sb.AppendLine(CultureInfo.InvariantCulture, $"- **{h.Sentence}**");
        if (headlines.Count > 0)
            sb.AppendLine();
        var imbalance = result.Problem.LoadBalanced ? " final imbalance |" : "";
        sb.AppendLine($"| learner | learned parameters | final expected reward [95% CI] | final regret vs oracle | calls to {o.ThresholdFraction * 100:0.#}% of oracle [95% CI] | dollars per seed | wall time per seed (s) |{imbalance}");
        sb.AppendLine("| --- | ---: | --- | --- | --- | ---: | ---: |" + (result.Problem.LoadBalanced ? " ---: |" : ""));
        foreach (var s in summaries)
        {
            var calls = s.SeedsReached == 0
                ? "not reached"
                : s.SeedsReached == s.Seeds
                    ? Interval(s.CallsToThresholdReached, "N0")
                    : $"{Interval(s.CallsToThresholdReached, "N0")} in {s.SeedsReached}/{s.Seeds} seeds; others not reached";
            var lb = result.Problem.LoadBalanced ? $" {s.FinalImbalance.Mean:0.000} |" : "";
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {LearnerNames.Describe(s.Learner)} (`{s.Learner}`) | {s.LearnedParameters:N0} | {Interval(s.FinalValue, "0.0000")} | {Interval(s.FinalRegret, "0.0000")} | {calls} | ${s.Dollars.Mean:0.0000} | {s.WallSeconds.Mean:0.00} |{lb}");
        }
        sb.AppendLine();
        var failures = summaries.Sum(s => s.ParseFailures);
        sb.AppendLine(CultureInfo.InvariantCulture, $"Judge answers that could not be parsed (scored 0.5): {failures:N0} over all runs.");
        sb.AppendLine();
        sb.AppendLine("Plots: `artifacts/reward-vs-calls.png`, `artifacts/calls-to-threshold.png`. Tables: `summary.csv`, `seeds.csv`, `curves.csv`, `curve_summary.csv`; the oracle's table: `oracle.json`.");
        return sb.ToString();
    }

    private static string Interval(Estimate e, string format) =>
        double.IsFinite(e.Lower)
            ? string.Create(CultureInfo.InvariantCulture, $"{e.Mean.ToString(format, CultureInfo.InvariantCulture)} [{e.Lower.ToString(format, CultureInfo.InvariantCulture)}, {e.Upper.ToString(format, CultureInfo.InvariantCulture)}]")
            : e.Mean.ToString(format, CultureInfo.InvariantCulture);

    private static void Style(Plot plot, string title, string x, string y)
    {
        plot.Font.Set("DejaVu Sans");
        plot.Title(title, 16);
        plot.XLabel(x, 13);
        plot.YLabel(y, 13);
    }

    /// <summary>Mean greedy expected reward with its 95% band per learner, on a log axis of calls (the learners differ by orders of magnitude).</summary>
    private static void PlotRewardAgainstCalls(ComparisonResult result, IReadOnlyList<LearnerSummary> summaries, string path)
    {
        var plot = new Plot();
        Style(plot, $"Greedy policy's expected reward against LLM calls ({result.Options.Problem.Kind}, {result.Options.Seeds} seeds)", "LLM calls (log scale)", "expected reward per task");
        // Checkpoint 0 has no logarithm; the curves start at the first call.
        var indices = Enumerable.Range(1, result.Checkpoints.Length - 1).ToArray();
        var x = indices.Select(i => Math.Log10(result.Checkpoints[i])).ToArray();
        for (var k = 0; k < summaries.Count; k++)
        {
            var s = summaries[k];
            var color = Palette[k % Palette.Length];
            var mean = indices.Select(i => s.Curve[i].Mean).ToArray();
            if (s.Seeds > 1)
            {
                var fill = plot.Add.FillY(x, indices.Select(i => s.Curve[i].Lower).ToArray(), indices.Select(i => s.Curve[i].Upper).ToArray());
                fill.FillColor = color.WithAlpha(0.15);
                fill.LineWidth = 0;
            }
            var line = plot.Add.Scatter(x, mean, color);
            line.LegendText = LearnerNames.Describe(s.Learner);
            line.LineWidth = 2;
            line.MarkerSize = 0;
        }
        var threshold = plot.Add.HorizontalLine(result.Threshold);
        threshold.LinePattern = LinePattern.Dashed;
        threshold.Color = Colors.Black;
        threshold.LegendText = $"{result.Options.ThresholdFraction * 100:0.#}% of oracle";
        var decades = Enumerable.Range(0, (int)Math.Ceiling(x[^1]) + 1).Select(d => (double)d).Where(d => d <= x[^1] + 1e-9).ToArray();
        plot.Axes.Bottom.SetTicks(decades, decades.Select(d => Math.Pow(10, d).ToString("N0", CultureInfo.InvariantCulture)).ToArray());
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, 1200, 750);
    }

    /// <summary>Mean calls to the threshold per learner with its 95% interval; learners that never reached it are drawn at the budget, hatched by a note.</summary>
    private static void PlotCallsToThreshold(ComparisonResult result, IReadOnlyList<LearnerSummary> summaries, string path)
    {
        var plot = new Plot();
        var budget = result.Checkpoints[^1];
        Style(plot, $"LLM calls until the greedy policy reaches {result.Options.ThresholdFraction * 100:0.#}% of the oracle (log scale; budget {budget:N0})", "", "LLM calls (log10)");
        var labels = new List<string>();
        for (var k = 0; k < summaries.Count; k++)
        {
            var s = summaries[k];
            // Unreached seeds count as the budget, so a bar at the top means "not within the budget".
            var calls = s.CallsToThreshold.Select(c => (double)Math.Max(c ?? budget, 1)).ToList();
            var e = Estimate.Of(calls.Select(Math.Log10).ToList());
            var bar = new Bar
            {
                Position = k,
                Value = e.Mean,
                FillColor = s.SeedsReached == s.Seeds ? Palette[k % Palette.Length] : Palette[k % Palette.Length].WithAlpha(0.35),
                Error = double.IsFinite(e.Upper) ? (e.Upper - e.Lower) / 2 : 0,
                Size = 0.7,
            };
            plot.Add.Bars(new[] { bar });
            labels.Add(s.SeedsReached == s.Seeds ? LearnerNames.Describe(s.Learner) : $"{LearnerNames.Describe(s.Learner)} ({s.SeedsReached}/{s.Seeds} reached)");
        }
        var budgetLine = plot.Add.HorizontalLine(Math.Log10(budget));
        budgetLine.LinePattern = LinePattern.Dashed;
        budgetLine.Color = Colors.Black;
        plot.Axes.Bottom.SetTicks(labels.Select((_, i) => (double)i).ToArray(), [.. labels]);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 30;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 160;
        plot.Axes.Margins(bottom: 0);
        plot.SavePng(path, 1200, 750);
    }
}
