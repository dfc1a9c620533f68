using System.Globalization;
using System.Text;
using RLWorkbench.Tracking;

namespace RLWorkbench.Comparison;

/// <summary>
/// Writes a comparison into its run directory: per-seed and summary CSV tables, the oracle's table, a markdown report
/// with the headline ratio. Its figures are drawn from these tables by Tracking's plotter (`rlw plot`).
/// </summary>
public static class ComparisonReport
{
    public const string Kind = "compare";

    /// <summary>The plain-text report `compare` prints (summary.md is the same as Markdown, with the full table).</summary>
    public const string TerminalFile = "summary.txt";

    public sealed record Written(IReadOnlyList<LearnerSummary> Summaries, IReadOnlyList<HeadlineRatio> Headlines, string Markdown, string TerminalText);

    public static Written Write(Run run, ComparisonResult result, double totalWallSeconds)
    {
        var summaries = ComparisonSummary.Summarise(result);
        var headlines = Headlines(result, summaries);
        WriteTables(run, result, summaries, headlines);
        WriteOracle(run, result);
        var markdown = Markdown(result, summaries, headlines, totalWallSeconds);
        AtomicFile.WriteAllText(Path.Combine(run.Directory, "summary.md"), markdown);
        var text = TerminalText(result, summaries, headlines);
        AtomicFile.WriteAllText(Path.Combine(run.Directory, TerminalFile), text);
        return new Written(summaries, headlines, markdown, text);
    }

    public static IReadOnlyList<HeadlineRatio> Headlines(ComparisonResult result, IReadOnlyList<LearnerSummary> summaries)
    {
        var q = summaries.FirstOrDefault(s => s.Learner == LearnerNames.QLearning);
        if (q is null)
            return [];
        return summaries.Where(s => LearnerNames.IsPpo(s.Learner))
            .Select(p => ComparisonSummary.Ratio(p, q, result.Options.ThresholdFraction))
            .ToList();
    }

    private static string F(double v, string format = "R") => double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "";

    private static string F(double? v) => v is { } x ? F(x) : "";

    private static void WriteTables(Run run, ComparisonResult result, IReadOnlyList<LearnerSummary> summaries, IReadOnlyList<HeadlineRatio> headlines)
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
        // A seed that never got there has its censoring time (the budget) in the calls column and false in reached.
        // With provider state a column counts the tasks a 429 failed, and when a provider's failure failed any task part-way
        // through a chain a last column counts those; otherwise the table is as it always was.
        var providerState = result.Problem.ProviderState is not null;
        var failedTasks = result.Runs.Any(r => r.FailedTasks > 0);
        string[] seedColumns = ["learner", "seed", "settled_calls", "settled", "first_crossing_calls", "first_crossing", "calls_spent", "dollars", "wall_s",
            "final_expected_reward", "final_regret", "final_imbalance", "parse_failures", "learned_parameters", "final_policy"];
        var seeds = run.Table("seeds", [.. seedColumns, .. providerState ? ["rate_limited_tasks"] : Array.Empty<string>(), .. failedTasks ? ["failed_tasks"] : Array.Empty<string>()]);
        foreach (var r in result.Runs)
        {
            var settled = ThresholdEvents.Settled(r.Values, result.Checkpoints, result.Threshold);
            var first = ThresholdEvents.FirstCrossing(r.Values, result.Checkpoints, result.Threshold);
            var policy = r.FinalTable is null ? "" : string.Join(' ', r.FinalTable.Select((a, s) => $"{result.Problem.StateLabel(s)}={result.Problem.ActionLabel(a)}"));
            object[] row = [r.Learner, r.Seed, settled.Calls, Flag(settled.Reached), first.Calls, Flag(first.Reached), r.CallsSpent, r.DollarsSpent, r.WallSeconds,
                r.Values[^1], result.OracleValue - r.Values[^1], result.Problem.LoadBalanced ? r.FinalImbalance : "", r.ParseFailures, r.LearnedParameters, policy];
            seeds.AppendRow([.. row, .. providerState ? [r.RateLimitedTasks] : Array.Empty<object>(), .. failedTasks ? [r.FailedTasks] : Array.Empty<object>()]);
        }
        // Medians and bounds left empty lie beyond the budget (budget_calls).
        var summary = run.Table("summary", ["learner", "description", "seeds", "learned_parameters", "final_expected_reward", "final_lower95", "final_upper95",
            "final_regret", "regret_lower95", "regret_upper95", "budget_calls", "settled_seeds", "settled_median_calls", "settled_median_lower95", "settled_median_upper95",
            "first_crossing_seeds", "first_crossing_median_calls", "first_crossing_median_lower95", "first_crossing_median_upper95",
            "dollars_mean", "wall_s_mean", "final_imbalance_mean", "parse_failures",
            "final_cost_per_task_usd", "value_per_dollar", "value_per_dollar_lower95", "value_per_dollar_upper95"]);
        foreach (var s in summaries)
        {
            var (settled, first) = (s.SettledMedian, s.FirstCrossingMedian);
            summary.AppendRow(s.Learner, LearnerNames.Describe(s.Learner), s.Seeds, s.LearnedParameters, s.FinalValue.Mean, F(s.FinalValue.Lower), F(s.FinalValue.Upper),
                s.FinalRegret.Mean, F(s.FinalRegret.Lower), F(s.FinalRegret.Upper), settled.Budget, settled.Reached, F(settled.Median), F(settled.Lower), F(settled.Upper),
                first.Reached, F(first.Median), F(first.Lower), F(first.Upper),
                s.DollarsMean, s.WallSecondsMean, result.Problem.LoadBalanced ? F(s.FinalImbalanceMean) : "", s.ParseFailures,
                F(s.FinalCostUsd.Mean), F(s.FinalValuePerDollar.Mean), F(s.FinalValuePerDollar.Lower), F(s.FinalValuePerDollar.Upper));
        }
        var ratios = run.Table("ratios", ["q_learner", "ppo_learner", "kind", "q_over_ppo", "lower95", "upper95", "sentence"]);
        foreach (var h in headlines)
            ratios.AppendRow(h.QLearning, h.Ppo, RatioKindName(h.Kind), F(h.QOverPpo), F(h.Lower), F(h.Upper), h.Sentence);
    }

    private static string Flag(bool value) => value ? "true" : "false";

    /// <summary>The report's count of tasks a 429 failed, per learner, under provider state.</summary>
    public static string RateLimitedLine(ComparisonResult result, ProviderStateOptions state)
    {
        var perLearner = result.Runs.GroupBy(r => r.Learner).Select(g => string.Create(CultureInfo.InvariantCulture, $"`{g.Key}` {g.Sum(r => r.RateLimitedTasks):N0}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"Provider state: the profile's rate limits on a virtual clock, {state.ArrivalsPerMinute:0.##} tasks a minute. Tasks failed on HTTP 429 after {state.Retries} retries (reward 0): {result.Runs.Sum(r => r.RateLimitedTasks):N0} over all runs ({string.Join(", ", perLearner)}).");
    }

    /// <summary>The report's count of tasks a provider's failure ended part-way through a chain, per learner; null when none did.</summary>
    public static string? FailedTasksLine(ComparisonResult result)
    {
        var total = result.Runs.Sum(r => r.FailedTasks);
        if (total == 0)
            return null;
        var perLearner = result.Runs.GroupBy(r => r.Learner).Select(g => string.Create(CultureInfo.InvariantCulture, $"`{g.Key}` {g.Sum(r => r.FailedTasks):N0}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"Tasks a provider's failure ended part-way through a chain (reward 0, the calls already made counted and billed; at most {result.Options.MaxFailedTasks:N0} per run, maxFailedTasks): {total:N0} over all runs ({string.Join(", ", perLearner)}).");
    }

    /// <summary>How ratios.csv names what q_over_ppo is.</summary>
    public static string RatioKindName(RatioKind kind) => kind switch
    {
        RatioKind.Measured => "measured",
        RatioKind.QLearningBeyondBudget => "lower_bound",
        RatioKind.PpoBeyondBudget => "upper_bound",
        _ => "none",
    };

    private static void WriteOracle(Run run, ComparisonResult result)
    {
        var problem = result.Problem;
        var types = Enumerable.Range(0, RoutingProblem.TypeCount).ToArray();
        run.WriteJson("oracle.json", new
        {
            OracleValue = result.OracleValue,
            Threshold = result.Threshold,
            ThresholdFraction = result.Options.ThresholdFraction,
            Method = problem.RoutesChains
                ? "single steps exact; chains exact in the judge's scores, sampled in the summed cost and latency (docs/compare.md)"
                : "exact: judge scores as rounded clipped normals convolved, token and latency laws in closed form (docs/compare.md)",
            Precision = result.Model.Precision,
            ChainSamples = problem.RoutesChains ? result.Options.Problem.ChainOracleSamples : (int?)null,
            OracleCostPerTaskUsd = result.Valuer.ExpectedCostUsd(new Routing.Learning.OraclePolicy()),
            OracleValuePerDollar = result.Valuer.ValuePerDollar(new Routing.Learning.OraclePolicy()),
            TypeProbabilities = types.ToDictionary(t => Routing.Core.RoutingNames.TaskTypes[t].ToString().ToLowerInvariant(), t => problem.TypeProbabilities[t]),
            ExpectedRewardNoPenalty = types.ToDictionary(
                t => Routing.Core.RoutingNames.TaskTypes[t].ToString().ToLowerInvariant(),
                t => Enumerable.Range(0, problem.ActionCount).ToDictionary(a => problem.ActionLabel(a), a => result.Model.Expected(t, a))),
            BestActionPerType = types.ToDictionary(t => Routing.Core.RoutingNames.TaskTypes[t].ToString().ToLowerInvariant(), t => problem.ActionLabel(result.Model.BestAction(t))),
            StandardError = problem.RoutesChains
                ? types.ToDictionary(
                    t => Routing.Core.RoutingNames.TaskTypes[t].ToString().ToLowerInvariant(),
                    t => Enumerable.Range(0, problem.ActionCount).ToDictionary(a => problem.ActionLabel(a), a => result.Model.StandardError(t, a)))
                : null,
            ExpectedAgentCostUsd = types.ToDictionary(
                t => Routing.Core.RoutingNames.TaskTypes[t].ToString().ToLowerInvariant(),
                t => Enumerable.Range(0, problem.ActionCount).ToDictionary(a => problem.ActionLabel(a), a => result.Model.ExpectedCostUsd(t, a))),
        });
    }

    /// <summary>
    /// The oracle's value as the reports print it: exact for single steps; on a chain problem with the largest standard error of
    /// any (task type, chain) value, the precision the comparison's numbers are good to.
    /// </summary>
    public static string OracleSentence(ComparisonResult result)
    {
        var value = string.Create(CultureInfo.InvariantCulture, $"Oracle expected reward per task {result.OracleValue:0.0000}");
        if (!result.Problem.RoutesChains)
            return value;
        return string.Create(CultureInfo.InvariantCulture,
            $"{value} (chains estimated: largest standard error {result.Model.Precision:0.000000} of any type and chain, {result.Options.Problem.ChainOracleSamples:N0} draws per task and chain; single steps exact), "
            + $"{result.Valuer.ValuePerDollar(new Routing.Learning.OraclePolicy()):N0} per agent dollar");
    }

    public static string Markdown(ComparisonResult result, IReadOnlyList<LearnerSummary> summaries, IReadOnlyList<HeadlineRatio> headlines, double totalWallSeconds)
    {
        var o = result.Options;
        var budget = result.Checkpoints[^1];
        var percent = string.Create(CultureInfo.InvariantCulture, $"{o.ThresholdFraction * 100:0.#}%");
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"# Comparison: {o.Problem.Kind} routing problem, {budget:N0} LLM calls per learner and seed, {o.Seeds} seeds");
        sb.AppendLine();
        if (result.Problem.RoutesChains)
            sb.AppendLine(CultureInfo.InvariantCulture, $"{OracleSentence(result)}; threshold ({percent}): {result.Threshold:0.0000}. "
                + $"Expected rewards are computed from the profile for each learner's greedy policy at each checkpoint. Total wall time {totalWallSeconds:0.0} s.");
        else
            sb.AppendLine(CultureInfo.InvariantCulture, $"Oracle expected reward per task: {result.OracleValue:0.0000}; threshold ({percent}): {result.Threshold:0.0000}. "
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
        if (PpoSettings(o) is { } ppo)
        {
            sb.AppendLine(ppo);
            sb.AppendLine();
        }
        sb.AppendLine(Definitions(percent));
        sb.AppendLine();
        var imbalance = result.Problem.LoadBalanced ? " final imbalance |" : "";
        sb.AppendLine($"| learner | learned parameters | final expected reward [95% CI] | final regret vs oracle [95% CI] | settled at {percent} (seeds) | median calls to settle [95% CI] | first crossed {percent} (seeds) | median calls to first crossing [95% CI] | dollars per seed | wall time per seed (s) |{imbalance} agent $ per task (final policy) | value per agent dollar [95% CI] |");
        sb.AppendLine("| --- | ---: | --- | --- | ---: | --- | ---: | --- | ---: | ---: |" + (result.Problem.LoadBalanced ? " ---: |" : "") + " ---: | --- |");
        foreach (var s in summaries)
        {
            var lb = result.Problem.LoadBalanced ? string.Create(CultureInfo.InvariantCulture, $" {s.FinalImbalanceMean:0.000} |") : "";
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {LearnerNames.Describe(s.Learner)} (`{s.Learner}`) | {s.LearnedParameters:N0} | {Interval(s.FinalValue)} | {Interval(s.FinalRegret)} | {s.SettledMedian.Reached}/{s.Seeds} | {Calls(s.SettledMedian)} | {s.FirstCrossingMedian.Reached}/{s.Seeds} | {Calls(s.FirstCrossingMedian)} | ${s.DollarsMean:0.0000} | {s.WallSecondsMean:0.00} |{lb} ${s.FinalCostUsd.Mean:0.000000} | {PerDollar(s.FinalValuePerDollar)} |");
        }
        sb.AppendLine();
        var failures = summaries.Sum(s => s.ParseFailures);
        sb.AppendLine(CultureInfo.InvariantCulture, $"Judge answers that could not be parsed (scored 0.5): {failures:N0} over all runs.");
        if (result.Problem.ProviderState is { } state)
        {
            sb.AppendLine();
            sb.AppendLine(RateLimitedLine(result, state));
        }
        if (FailedTasksLine(result) is { } failedTasksLine)
        {
            sb.AppendLine();
            sb.AppendLine(failedTasksLine);
        }
        sb.AppendLine();
        sb.AppendLine("Plots: `artifacts/plots/reward_vs_calls.png`, `artifacts/plots/calls_to_threshold.png` (redraw with `rlw plot <run>`). Tables: `summary.csv`, `ratios.csv`, `seeds.csv`, `curves.csv`, `curve_summary.csv`; the oracle's table: `oracle.json`.");
        return sb.ToString();
    }

    /// <summary>
    /// What the terminal shows: the headline sentences, the PPO settings behind them, and an aligned plain-text table
    /// (learner names as the configuration spells them, so it fits a terminal); summary.md has the full table.
    /// </summary>
    public static string TerminalText(ComparisonResult result, IReadOnlyList<LearnerSummary> summaries, IReadOnlyList<HeadlineRatio> headlines)
    {
        var o = result.Options;
        var percent = string.Create(CultureInfo.InvariantCulture, $"{o.ThresholdFraction * 100:0.#}%");
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{OracleSentence(result)}, threshold ({percent}) {result.Threshold:0.0000}, budget {result.Checkpoints[^1]:N0} LLM calls per learner and seed, {o.Seeds} seeds.");
        if (result.StoppedEarly is not null)
            sb.AppendLine(CultureInfo.InvariantCulture, $"Stopped early: {result.StoppedEarly}");
        sb.AppendLine();
        foreach (var h in headlines)
            sb.AppendLine(CultureInfo.InvariantCulture, $"* {h.Sentence}");
        if (headlines.Count > 0)
            sb.AppendLine();
        if (PpoSettings(o) is { } ppo)
        {
            sb.AppendLine(ppo.Replace("`", "", StringComparison.Ordinal));
            sb.AppendLine();
        }
        var rows = new List<string[]> { new[] { "learner", "final expected reward", "settled", "median calls to settle [95% CI]", "first crossed", "median first crossing", "$ per seed", "value per agent $" } };
        foreach (var s in summaries)
        {
            rows.Add([s.Learner, Interval(s.FinalValue), $"{s.SettledMedian.Reached}/{s.Seeds}", Calls(s.SettledMedian), $"{s.FirstCrossingMedian.Reached}/{s.Seeds}",
                Calls(s.FirstCrossingMedian with { Lower = null, Upper = null }), s.DollarsMean.ToString("0.00", CultureInfo.InvariantCulture), PerDollar(s.FinalValuePerDollar with { Lower = double.NaN })]);
        }
        Columns(sb, rows);
        sb.AppendLine();
        sb.AppendLine(Definitions(percent).Replace("**", "", StringComparison.Ordinal));
        return sb.ToString();
    }

    private static string Definitions(string percent) =>
        $"**Settled**: the checkpoint after which the greedy policy's exact expected reward stays at or above {percent} of the oracle's to the end of the run; "
        + $"**first crossing**: the first checkpoint at or above it. A seed that never gets there is censored at the budget, not dropped: medians over seeds "
        + "are Kaplan-Meier estimates (\"> N\": fewer than half the seeds got there within the budget N), their 95% intervals percentile bootstrap over seeds "
        + $"({SeedBootstrap.Resamples} resamples); means (final expected reward, regret) have percentile bootstrap intervals too. docs/compare.md defines each.";

    /// <summary>The PPO settings behind the headline, rescaled and the seed's own, for the PPO learners in this comparison.</summary>
    public static string? PpoSettings(ComparisonOptions o)
    {
        var rescaled = o.Learners.Where(l => l is LearnerNames.PpoSeed or LearnerNames.PpoSmall).Select(l => $"`{l}`").ToList();
        var parts = new List<string>();
        if (rescaled.Count > 0)
            parts.Add($"{string.Join(" and ", rescaled)} run with settings rescaled to a budget of calls ({Settings(o.Ppo.Trainer)})");
        if (o.Learners.Contains(LearnerNames.PpoSeedSettings))
            parts.Add($"`{LearnerNames.PpoSeedSettings}` runs the seed's own ({Settings(o.Ppo.SeedTrainer)}), the seed network [{string.Join(",", o.Ppo.SeedNetwork)}] in both");
        return parts.Count == 0 ? null : "PPO: " + string.Join("; ", parts) + ". Q-learning keeps the seed's settings.";
    }

    private static string Settings(Ppo.PpoOptions t) => string.Create(CultureInfo.InvariantCulture,
        $"rollout {t.NumEnvs} x {t.StepsPerEnv} = {2 * t.RolloutSize:N0} calls per update, minibatch {t.MinibatchSize}, {t.Epochs} epochs, lr {t.LearningRate}, gamma {t.Gamma}, GAE lambda {t.GaeLambda}");

    private static void Columns(StringBuilder sb, List<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
            sb.AppendLine(string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
    }

    /// <summary>Expected reward per agent dollar: whole numbers (a good policy earns hundreds to thousands per dollar here).</summary>
    private static string PerDollar(SeedMean e) =>
        !double.IsFinite(e.Mean) ? ""
        : e.HasInterval ? string.Create(CultureInfo.InvariantCulture, $"{e.Mean:N0} [{e.Lower:N0}, {e.Upper:N0}]")
        : e.Mean.ToString("N0", CultureInfo.InvariantCulture);

    private static string Interval(SeedMean e) =>
        e.HasInterval
            ? string.Create(CultureInfo.InvariantCulture, $"{e.Mean:0.0000} [{e.Lower:0.0000}, {e.Upper:0.0000}]")
            : e.Mean.ToString("0.0000", CultureInfo.InvariantCulture);

    /// <summary>A median of calls with its interval; "&gt; budget" where it lies beyond the budget.</summary>
    public static string Calls(MedianCalls m)
    {
        string Value(double? v) => v is { } x ? x.ToString("N0", CultureInfo.InvariantCulture) : "> " + m.Budget.ToString("N0", CultureInfo.InvariantCulture);
        if (m.Median is null)
            return Value(null);
        return m.Lower is null && m.Upper is null ? Value(m.Median) : $"{Value(m.Median)} [{Value(m.Lower)}, {Value(m.Upper)}]";
    }
}
