using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using RLWorkbench.Tracking;

namespace RLWorkbench.Comparison.Pareto;

/// <summary>One learner's front over seeds: how much of the exact fronts' hypervolume it covers, and after how many calls.</summary>
public sealed record LearnerFront(
    string Learner,
    SeedMean[] CostRatio,
    SeedMean[] LatencyRatio,
    MedianCalls CostCalls,
    MedianCalls LatencyCalls,
    MedianCalls BothCalls);

/// <summary>
/// Writes a Pareto sweep into its run directory: per-run and summary tables (each learner's point per weight vector with 95%
/// bootstrap intervals over seeds, its hypervolume ratio at every checkpoint, the calls until it covers the target share of
/// the exact fronts), the exact fronts, the fixed rules, the weighted oracle, pareto.json and summary.md. The figures are
/// drawn from these tables by Tracking's plotter.
/// </summary>
public static class ParetoReport
{
    public sealed record Written(IReadOnlyList<LearnerFront> Fronts, string Markdown);

    private static string F(double v, string format = "R") => double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "";

    private static string F(double? v) => v is { } x ? F(x) : "";

    public static IReadOnlyList<LearnerFront> Summarise(ParetoResult result)
    {
        var fraction = result.Options.ThresholdFraction;
        var fronts = new List<LearnerFront>();
        foreach (var learner in result.Learners)
        {
            var seeds = result.Seeds.Where(s => result.Runs.Any(r => r.Learner == learner && r.Seed == s)).ToArray();
            if (seeds.Length == 0)
                continue;
            var ratios = seeds.Select(s => result.Ratios(learner, s)).ToArray();
            SeedMean[] Curve(Func<(double[] Cost, double[] Latency), double[]> plane) =>
                Enumerable.Range(0, result.Checkpoints.Length).Select(k => SeedMean.Of(ratios.Select(r => plane(r)[k]).ToArray())).ToArray();
            // Counted in calls for the whole front, so a learner that serves every weight vector from one run is compared fairly.
            var frontCalls = result.Checkpoints.Select(c => result.FrontCalls(learner, c)).ToArray();
            MedianCalls Calls(Func<(double[] Cost, double[] Latency), double[]> plane) =>
                SeedBootstrap.Median(ratios.Select(r => ThresholdEvents.Settled(plane(r), frontCalls, fraction)).ToArray(), frontCalls[^1]);
            static double[] Both((double[] Cost, double[] Latency) r) => r.Cost.Zip(r.Latency, Math.Min).ToArray();
            fronts.Add(new LearnerFront(learner, Curve(r => r.Cost), Curve(r => r.Latency), Calls(r => r.Cost), Calls(r => r.Latency), Calls(Both)));
        }
        return fronts;
    }

    public static Written Write(Run run, ParetoResult result, double totalWallSeconds)
    {
        var fronts = Summarise(result);
        var exact = result.Exact;
        var runs = run.Table("pareto_runs", ["learner", "weights", "seed", "calls_spent", "wall_s", "quality", "cost_usd", "p95_latency_s"]);
        foreach (var r in result.Runs)
        {
            var o = r.AtCheckpoint[^1];
            runs.AppendRow(r.Learner, r.Weights.ToString(), r.Seed, r.CallsSpent, r.WallSeconds, o.Quality, o.CostUsd, o.P95LatencySeconds);
        }
        var summary = run.Table("pareto_summary", ["learner", "weights", "seeds", "quality", "quality_lower95", "quality_upper95",
            "cost_usd", "cost_lower95", "cost_upper95", "p95_latency_s", "p95_lower95", "p95_upper95"]);
        foreach (var learner in result.Learners)
        {
            foreach (var w in result.Weights)
            {
                var finals = result.Runs.Where(r => r.Learner == learner && r.Weights == w).Select(r => r.AtCheckpoint[^1]).ToArray();
                if (finals.Length == 0)
                    continue;
                var (q, c, l) = (SeedMean.Of(finals.Select(o => o.Quality).ToArray()), SeedMean.Of(finals.Select(o => o.CostUsd).ToArray()), SeedMean.Of(finals.Select(o => o.P95LatencySeconds).ToArray()));
                summary.AppendRow(learner, w.ToString(), finals.Length, q.Mean, F(q.Lower), F(q.Upper), c.Mean, F(c.Lower), F(c.Upper), l.Mean, F(l.Lower), F(l.Upper));
            }
        }
        var curve = run.Table("pareto_hypervolume", ["learner", "calls", "front_calls", "cost_ratio", "cost_lower95", "cost_upper95", "latency_ratio", "latency_lower95", "latency_upper95"]);
        foreach (var f in fronts)
        {
            for (var k = 0; k < result.Checkpoints.Length; k++)
                curve.AppendRow(f.Learner, result.Checkpoints[k], result.FrontCalls(f.Learner, result.Checkpoints[k]), F(f.CostRatio[k].Mean), F(f.CostRatio[k].Lower), F(f.CostRatio[k].Upper), F(f.LatencyRatio[k].Mean), F(f.LatencyRatio[k].Lower), F(f.LatencyRatio[k].Upper));
        }
        var learners = run.Table("pareto_learners", ["learner", "description", "seeds", "weight_vectors", "budget_calls", "front_budget_calls", "final_cost_ratio", "final_cost_lower95", "final_cost_upper95",
            "final_latency_ratio", "final_latency_lower95", "final_latency_upper95", "cost_reached_seeds", "cost_median_calls", "cost_median_lower95", "cost_median_upper95",
            "latency_reached_seeds", "latency_median_calls", "latency_median_lower95", "latency_median_upper95", "both_reached_seeds", "both_median_calls", "both_median_lower95", "both_median_upper95"]);
        foreach (var f in fronts)
        {
            var (c, l) = (f.CostRatio[^1], f.LatencyRatio[^1]);
            learners.AppendRow(f.Learner, LearnerNames.Describe(f.Learner), f.CostCalls.Seeds, result.Weights.Count, result.Checkpoints[^1], result.FrontCalls(f.Learner, result.Checkpoints[^1]), F(c.Mean), F(c.Lower), F(c.Upper), F(l.Mean), F(l.Lower), F(l.Upper),
                f.CostCalls.Reached, F(f.CostCalls.Median), F(f.CostCalls.Lower), F(f.CostCalls.Upper),
                f.LatencyCalls.Reached, F(f.LatencyCalls.Median), F(f.LatencyCalls.Lower), F(f.LatencyCalls.Upper),
                f.BothCalls.Reached, F(f.BothCalls.Median), F(f.BothCalls.Lower), F(f.BothCalls.Upper));
        }
        var fronts2 = run.Table("pareto_exact", ["plane", "x", "quality"]);
        foreach (var p in exact.CostFront)
            fronts2.AppendRow("cost", p.Cost, p.Quality);
        foreach (var p in exact.LatencyFront)
            fronts2.AppendRow("latency", p.Cost, p.Quality);
        var baselines = run.Table("pareto_baselines", ["name", "description", "quality", "cost_usd", "p95_latency_s"]);
        foreach (var b in result.Baselines)
            baselines.AppendRow(b.Name, b.Description, b.Objectives.Quality, b.Objectives.CostUsd, b.Objectives.P95LatencySeconds);
        // The tables a learner that estimates its own front offers at the budget, per seed (what its hypervolume counts).
        var offeredTable = run.Table("pareto_offered", ["learner", "seed", "quality", "cost_usd", "p95_latency_s"]);
        foreach (var ((learner, seed), atCheckpoint) in result.OfferedFronts.OrderBy(f => f.Key.Learner, StringComparer.Ordinal).ThenBy(f => f.Key.Seed))
        {
            foreach (var o in atCheckpoint[^1])
                offeredTable.AppendRow(learner, seed, o.Quality, o.CostUsd, o.P95LatencySeconds);
        }
        var optima = run.Table("pareto_optima", ["weights", "quality", "cost_usd", "p95_latency_s"]);
        foreach (var (w, o) in result.WeightedOptima)
            optima.AppendRow(w.ToString(), o.Quality, o.CostUsd, o.P95LatencySeconds);

        var optimum = result.WeightedOptima.Select(o => o.Objectives).ToArray();
        var rules = result.Baselines.Select(b => b.Objectives).ToArray();
        var routeLlm = result.Baselines.Where(b => b.Name.StartsWith("routellm", StringComparison.Ordinal)).Select(b => b.Objectives).ToArray();
        var json = new JsonObject
        {
            ["targetFraction"] = result.Options.ThresholdFraction,
            ["deterministicPolicies"] = exact.Policies.Count,
            ["costReference"] = new JsonObject { ["costUsd"] = exact.CostReference.Cost, ["quality"] = exact.CostReference.Quality },
            ["latencyReference"] = new JsonObject { ["p95LatencySeconds"] = exact.LatencyReference.Cost, ["quality"] = exact.LatencyReference.Quality },
            ["exactCostHypervolume"] = exact.CostHypervolume,
            ["exactLatencyHypervolume"] = exact.LatencyHypervolume,
            ["weightedOracleCostRatio"] = exact.CostRatio(optimum),
            ["weightedOracleLatencyRatio"] = exact.LatencyRatio(optimum),
            ["fixedRulesCostRatio"] = exact.CostRatio(rules),
            ["fixedRulesLatencyRatio"] = exact.LatencyRatio(rules),
            ["routeLlmCostRatio"] = exact.CostRatio(routeLlm),
            ["routeLlmLatencyRatio"] = exact.LatencyRatio(routeLlm),
        };
        AtomicFile.WriteAllText(Path.Combine(run.Directory, "pareto.json"), json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        var markdown = Markdown(result, fronts, totalWallSeconds);
        AtomicFile.WriteAllText(Path.Combine(run.Directory, "summary.md"), markdown);
        AtomicFile.WriteAllText(Path.Combine(run.Directory, ComparisonReport.TerminalFile), markdown);
        return new Written(fronts, markdown);
    }

    private static string Calls(MedianCalls m) => m.Median is { } v
        ? string.Create(CultureInfo.InvariantCulture, $"{v:N0} [{(m.Lower is { } lo ? lo.ToString("N0", CultureInfo.InvariantCulture) : "?")}, {(m.Upper is { } hi ? hi.ToString("N0", CultureInfo.InvariantCulture) : "> budget")}] ({m.Reached}/{m.Seeds})")
        : $"> {m.Budget:N0} ({m.Reached}/{m.Seeds})";

    private static string Interval(SeedMean m, string format) => m.HasInterval
        ? $"{m.Mean.ToString(format, CultureInfo.InvariantCulture)} [{m.Lower.ToString(format, CultureInfo.InvariantCulture)}, {m.Upper.ToString(format, CultureInfo.InvariantCulture)}]"
        : m.Mean.ToString(format, CultureInfo.InvariantCulture);

    public static string Markdown(ParetoResult result, IReadOnlyList<LearnerFront> fronts, double totalWallSeconds)
    {
        var exact = result.Exact;
        var o = result.Options;
        var fraction = o.ThresholdFraction;
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine("# Pareto fronts: quality against cost per task and against p95 latency").AppendLine();
        sb.AppendLine(string.Create(inv, $"{result.Weights.Count} weight vectors x {o.Learners.Length} learners x {o.Seeds} seeds (first {o.FirstSeed}), {result.Checkpoints[^1]:N0} LLM calls per (weight vector, learner, seed); {totalWallSeconds:0} s in all."));
        sb.AppendLine(string.Create(inv, $"A learner's front after c calls per weight vector is its greedy policies for all weight vectors, each after c calls of learning that scalarisation: {result.Weights.Count} x c calls for the whole front; {LearnerNames.Ucb1Vector} learns every weight vector from one run, c calls for the whole front. Calls below are for the whole front."));
        sb.AppendLine(string.Create(inv, $"Exact front: all {exact.Policies.Count:N0} deterministic per-type policies, valued exactly. Reference points (each front's nadir moved out by {ExactFront.ReferenceMargin:P0} of its range): (cost ${exact.CostReference.Cost:0.000000} per task, quality {exact.CostReference.Quality:0.0000}) and (p95 latency {exact.LatencyReference.Cost:0.000} s, quality {exact.LatencyReference.Quality:0.0000})."));
        var optimum = result.WeightedOptima.Select(x => x.Objectives).ToArray();
        sb.AppendLine(string.Create(inv, $"The best policy for each weight vector (weighted oracle) covers {exact.CostRatio(optimum):0.0000} of the exact (cost, quality) hypervolume and {exact.LatencyRatio(optimum):0.0000} of the (p95 latency, quality) one: the most these weights can give a learner that finds each optimum.")).AppendLine();
        sb.AppendLine($"| learner | hypervolume ratio, cost plane [95% CI] | latency plane | median calls for the front to {fraction:P0} (cost plane) | latency plane | both |");
        sb.AppendLine("| --- | --- | --- | --- | --- | --- |");
        foreach (var f in fronts)
            sb.AppendLine($"| {LearnerNames.Describe(f.Learner)} | {Interval(f.CostRatio[^1], "0.0000")} | {Interval(f.LatencyRatio[^1], "0.0000")} | {Calls(f.CostCalls)} | {Calls(f.LatencyCalls)} | {Calls(f.BothCalls)} |");
        sb.AppendLine();
        foreach (var ((learner, _), _) in result.OfferedFronts.Take(1))
        {
            // A bigger offered set can only cover more, so say how big it is and how much of it is truly efficient.
            var finals = result.OfferedFronts.Where(f => f.Key.Learner == learner).Select(f => f.Value[^1]).ToArray();
            var sizes = finals.Select(f => f.Length).ToArray();
            var efficient = new HashSet<(double, double)>(exact.CostFront.Select(p => (p.Cost, p.Quality)));
            var efficientLatency = new HashSet<(double, double)>(exact.LatencyFront.Select(p => (p.Cost, p.Quality)));
            var onFront = finals.SelectMany(f => f).Count(p => efficient.Contains((p.CostUsd, p.Quality)) || efficientLatency.Contains((p.P95LatencySeconds, p.Quality)));
            sb.AppendLine(string.Create(inv, $"{learner}'s front is the set of tables it estimates efficient in either plane (not one table per weight vector): at the budget {sizes.Average():0.#} tables per seed (from {sizes.Min()} to {sizes.Max()}), {(double)onFront / sizes.Sum():P0} of them on the exact front of one plane or the other; the exact fronts have {exact.CostFront.Count} and {exact.LatencyFront.Count} tables.")).AppendLine();
        }
        sb.AppendLine("Calls are Kaplan-Meier medians of the calls after which a seed's ratio stays at or above the target (censored at the budget), with 95% bootstrap intervals and the seeds that got there.").AppendLine();
        sb.AppendLine("## Fixed rules").AppendLine();
        sb.AppendLine("| rule | quality | cost per task (USD) | p95 latency (s) |");
        sb.AppendLine("| --- | ---: | ---: | ---: |");
        foreach (var b in result.Baselines)
            sb.AppendLine(string.Create(inv, $"| {b.Description} | {b.Objectives.Quality:0.0000} | {b.Objectives.CostUsd:0.000000} | {b.Objectives.P95LatencySeconds:0.000} |"));
        var rules = result.Baselines.Select(b => b.Objectives).ToArray();
        sb.AppendLine().AppendLine(string.Create(inv, $"Together the fixed rules cover {exact.CostRatio(rules):0.0000} of the exact (cost, quality) hypervolume and {exact.LatencyRatio(rules):0.0000} of the (p95 latency, quality) one.")).AppendLine();
        sb.AppendLine("## Learned points at the budget (mean [95% CI] over seeds)").AppendLine();
        sb.AppendLine("| learner | weights | quality | cost per task (USD) | p95 latency (s) |");
        sb.AppendLine("| --- | --- | --- | --- | --- |");
        foreach (var learner in result.Learners)
        {
            foreach (var w in result.Weights)
            {
                var finals = result.Runs.Where(r => r.Learner == learner && r.Weights == w).Select(r => r.AtCheckpoint[^1]).ToArray();
                if (finals.Length == 0)
                    continue;
                sb.AppendLine($"| {learner} | {w} | {Interval(SeedMean.Of(finals.Select(x => x.Quality).ToArray()), "0.0000")} | {Interval(SeedMean.Of(finals.Select(x => x.CostUsd).ToArray()), "0.000000")} | {Interval(SeedMean.Of(finals.Select(x => x.P95LatencySeconds).ToArray()), "0.000")} |");
            }
        }
        return sb.ToString();
    }
}
