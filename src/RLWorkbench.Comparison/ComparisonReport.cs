using System.Globalization;
using System.Text;
using RLWorkbench.Tracking;
using RLWorkbench.Tracking.Statistics;

namespace RLWorkbench.Comparison;

/// <summary>
/// Writes a comparison into its run directory: per-seed and summary CSV tables, the oracle's table, a markdown report
/// with the headline ratio. Its figures are drawn from these tables by Tracking's plotter (`rlw plot`).
/// </summary>
public static class ComparisonReport
{
    public const string Kind = "compare";

    public sealed record Written(IReadOnlyList<LearnerSummary> Summaries, IReadOnlyList<HeadlineRatio> Headlines, string Markdown);

    public static Written Write(Run run, ComparisonResult result, double totalWallSeconds)
    {
        var summaries = ComparisonSummary.Summarise(result);
        var headlines = Headlines(result, summaries);
        WriteTables(run, result, summaries);
        WriteOracle(run, result);
        var markdown = Markdown(result, summaries, headlines, totalWallSeconds);
        AtomicFile.WriteAllText(Path.Combine(run.Directory, "summary.md"), markdown);
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
            "calls_to_threshold_upper95", "dollars_mean", "wall_s_mean", "final_imbalance_mean", "parse_failures",
            "description", "log10_calls_budgeted_mean", "log10_calls_budgeted_lower95", "log10_calls_budgeted_upper95"]);
        var budget = result.Checkpoints[^1];
        foreach (var s in summaries)
        {
            // What the calls-to-threshold figure draws: log10 of each seed's calls, a seed that never reached
            // the threshold counting as the whole budget, so a bar at the budget line means "not within it".
            var budgeted = Estimate.Of(s.CallsToThreshold.Select(c => Math.Log10(Math.Max(c ?? budget, 1))).ToList());
            summary.AppendRow(s.Learner, s.Seeds, s.LearnedParameters, s.FinalValue.Mean, F(s.FinalValue.Lower), F(s.FinalValue.Upper),
                s.FinalRegret.Mean, F(s.FinalRegret.Lower), F(s.FinalRegret.Upper), s.SeedsReached, F(s.CallsToThresholdReached.Mean),
                F(s.CallsToThresholdReached.Lower), F(s.CallsToThresholdReached.Upper), s.Dollars.Mean, s.WallSeconds.Mean,
                result.Problem.LoadBalanced ? F(s.FinalImbalance.Mean) : "", s.ParseFailures,
                LearnerNames.Describe(s.Learner), budgeted.Mean, F(budgeted.Lower), F(budgeted.Upper));
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
        sb.AppendLine("Plots: `artifacts/plots/reward_vs_calls.png`, `artifacts/plots/calls_to_threshold.png` (redraw with `rlw plot <run>`). Tables: `summary.csv`, `seeds.csv`, `curves.csv`, `curve_summary.csv`; the oracle's table: `oracle.json`.");
        return sb.ToString();
    }

    private static string Interval(Estimate e, string format) =>
        double.IsFinite(e.Lower)
            ? string.Create(CultureInfo.InvariantCulture, $"{e.Mean.ToString(format, CultureInfo.InvariantCulture)} [{e.Lower.ToString(format, CultureInfo.InvariantCulture)}, {e.Upper.ToString(format, CultureInfo.InvariantCulture)}]")
            : e.Mean.ToString(format, CultureInfo.InvariantCulture);
}
