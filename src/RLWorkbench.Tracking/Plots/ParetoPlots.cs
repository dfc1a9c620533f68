using System.Globalization;
using ScottPlot;

namespace RLWorkbench.Tracking.Plots;

/// <summary>
/// The figures of a Pareto sweep (`compare` with weights), from its pareto_*.csv tables: quality against cost per task and
/// against p95 latency, each with the exact front (a staircase: everything below and right of it is achievable), every
/// learner's mean point per weight vector with 95% intervals over seeds in both directions and a line through its
/// non-dominated means, and the fixed rules; and the share of the exact fronts' hypervolume against the calls the front took.
/// </summary>
internal static class ParetoPlots
{
    public static bool IsPareto(RunRecord run) => run.Table("pareto_summary") is not null;

    public static void Draw(RunRecord run, string dir, List<string> files, List<string> notes)
    {
        var summary = run.Table("pareto_summary");
        var exact = run.Table("pareto_exact");
        var baselines = run.Table("pareto_baselines");
        var curve = run.Table("pareto_hypervolume");
        if (summary is null || exact is null || baselines is null || curve is null)
        {
            notes.Add("a Pareto sweep needs pareto_summary.csv, pareto_exact.csv, pareto_baselines.csv and pareto_hypervolume.csv for its figures.");
            return;
        }
        var learners = summary.Strings("learner").Distinct().ToArray();
        files.Add(Plane(summary, run.Table("pareto_runs"), run.Table("pareto_offered"), exact, baselines, learners, "cost", "cost_usd", "cost_lower95", "cost_upper95", "mean agent cost per task (USD)",
            "Quality against cost per task", Path.Combine(dir, "pareto_quality_vs_cost.png")));
        files.Add(Plane(summary, run.Table("pareto_runs"), run.Table("pareto_offered"), exact, baselines, learners, "latency", "p95_latency_s", "p95_lower95", "p95_upper95", "95th-percentile latency of the agent call (s)",
            "Quality against p95 latency", Path.Combine(dir, "pareto_quality_vs_latency.png")));
        files.Add(Hypervolume(curve, learners, Path.Combine(dir, "pareto_hypervolume_vs_calls.png")));
    }

    private static readonly MarkerShape[] LearnerMarkers = [MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond, MarkerShape.OpenCircle, MarkerShape.OpenSquare];

    private static string Plane(RunTable summary, RunTable? runs, RunTable? offered, RunTable exact, RunTable baselines, string[] learners, string plane, string x, string lower, string upper, string xLabel, string title, string path)
    {
        var plot = Figure.New($"{title}: learned greedy policies at the budget (mean and 95% interval over seeds per weight vector)", xLabel, "mean judge quality per task");
        var scale = plane == "cost" ? 1000.0 : 1.0;
        if (plane == "cost")
            plot.XLabel(xLabel.Replace("(USD)", "(USD per 1,000 tasks)", StringComparison.Ordinal), 13);

        // The exact front: its efficient policies, joined in cost order to guide the eye (a deployed table is one of the circles).
        var rows = Enumerable.Range(0, exact.RowCount).Where(i => exact.Strings("plane")[i] == plane).ToArray();
        var ex = rows.Select(i => exact.Numbers("x")[i] * scale).ToArray();
        var eq = rows.Select(i => exact.Numbers("quality")[i]).ToArray();
        var front = plot.Add.Scatter(ex, eq, Colors.Black);
        front.LineWidth = 2;
        front.MarkerShape = MarkerShape.OpenCircle;
        front.MarkerSize = 9;
        front.LegendText = $"exact front ({ex.Length} efficient per-type policies)";

        // Every seed's policy, faint: a mean over seeds averages different policies and can sit off the front between them.
        if (runs is not null)
        {
            var runLearner = runs.Strings("learner");
            var rx = runs.Numbers(x == "cost_usd" ? "cost_usd" : "p95_latency_s");
            var rq = runs.Numbers("quality");
            for (var k = 0; k < learners.Length; k++)
            {
                var mine = Enumerable.Range(0, runs.RowCount).Where(i => runLearner[i] == learners[k]).ToArray();
                var seedPoints = plot.Add.ScatterPoints(mine.Select(i => rx[i] * scale).ToArray(), mine.Select(i => rq[i]).ToArray(), Figure.Palette[k % Figure.Palette.Length].WithAlpha(0.3));
                seedPoints.MarkerShape = LearnerMarkers[k % LearnerMarkers.Length];
                seedPoints.MarkerSize = 5;
            }
        }

        // A learner that offers its own estimated front: every table it offered at the budget, over all seeds.
        if (offered is { RowCount: > 0 })
        {
            var offeredLearner = offered.Strings("learner");
            var ox = offered.Numbers(x == "cost_usd" ? "cost_usd" : "p95_latency_s");
            var oq = offered.Numbers("quality");
            for (var k = 0; k < learners.Length; k++)
            {
                var mine = Enumerable.Range(0, offered.RowCount).Where(i => offeredLearner[i] == learners[k]).ToArray();
                if (mine.Length == 0)
                    continue;
                var tables = plot.Add.ScatterPoints(mine.Select(i => ox[i] * scale).ToArray(), mine.Select(i => oq[i]).ToArray(), Figure.Palette[k % Figure.Palette.Length]);
                tables.MarkerShape = MarkerShape.OpenSquare;
                tables.MarkerSize = 12;
                tables.LegendText = $"{learners[k]}: tables of its estimated front (all seeds; its hypervolume)";
            }
        }

        var learnerOf = summary.Strings("learner");
        var mx = summary.Numbers(x);
        var lx = summary.Numbers(lower);
        var ux = summary.Numbers(upper);
        var mq = summary.Numbers("quality");
        var lq = summary.Numbers("quality_lower95");
        var uq = summary.Numbers("quality_upper95");
        for (var k = 0; k < learners.Length; k++)
        {
            var color = Figure.Palette[k % Figure.Palette.Length];
            var mine = Enumerable.Range(0, summary.RowCount).Where(i => learnerOf[i] == learners[k]).ToArray();
            foreach (var i in mine)
            {
                if (double.IsFinite(lx[i]) && double.IsFinite(ux[i]))
                    Whisker(plot, lx[i] * scale, mq[i], ux[i] * scale, mq[i], color);
                if (double.IsFinite(lq[i]) && double.IsFinite(uq[i]))
                    Whisker(plot, mx[i] * scale, lq[i], mx[i] * scale, uq[i], color);
            }
            var points = plot.Add.ScatterPoints(mine.Select(i => mx[i] * scale).ToArray(), mine.Select(i => mq[i]).ToArray(), color);
            points.MarkerShape = LearnerMarkers[k % LearnerMarkers.Length];
            points.MarkerSize = 10;
            points.LegendText = $"{learners[k]}: mean per weight vector (faint: each seed)";
            // Its own front: the non-dominated means, cheapest first.
            var own = new List<int>();
            foreach (var i in mine.OrderBy(i => mx[i]).ThenByDescending(i => mq[i]))
            {
                if (own.Count == 0 || mq[i] > mq[own[^1]])
                    own.Add(i);
            }
            var line = plot.Add.Scatter(own.Select(i => mx[i] * scale).ToArray(), own.Select(i => mq[i]).ToArray(), color);
            line.LineWidth = 1.5f;
            line.LinePattern = LinePattern.Dashed;
            line.MarkerSize = 0;
        }

        var names = baselines.Strings("name");
        var descriptions = baselines.Strings("description");
        var bx = baselines.Numbers(plane == "cost" ? "cost_usd" : "p95_latency_s");
        var bq = baselines.Numbers("quality");
        var routeLlm = Enumerable.Range(0, baselines.RowCount).Where(i => names[i].StartsWith("routellm", StringComparison.Ordinal)).OrderBy(i => bx[i]).ToArray();
        if (routeLlm.Length > 0)
        {
            var threshold = plot.Add.Scatter(routeLlm.Select(i => bx[i] * scale).ToArray(), routeLlm.Select(i => bq[i]).ToArray(), Colors.Gray);
            threshold.LinePattern = LinePattern.Dotted;
            threshold.LineWidth = 2;
            threshold.MarkerShape = MarkerShape.OpenDiamond;
            threshold.MarkerSize = 10;
            threshold.LegendText = "RouteLLM threshold on complexity (every threshold)";
        }
        MarkerShape[] ruleMarkers = [MarkerShape.Cross, MarkerShape.Eks, MarkerShape.OpenTriangleDown, MarkerShape.Asterisk, MarkerShape.HashTag];
        var r = 0;
        foreach (var i in Enumerable.Range(0, baselines.RowCount).Except(routeLlm))
        {
            var marker = plot.Add.Marker(bx[i] * scale, bq[i], ruleMarkers[r % ruleMarkers.Length], 14, Colors.DarkRed);
            marker.LegendText = descriptions[i];
            r++;
        }
        plot.ShowLegend(Edge.Right);
        return Figure.Save(plot, path, 1500, 850);
    }

    private static void Whisker(Plot plot, double x1, double y1, double x2, double y2, Color color)
    {
        var line = plot.Add.Line(x1, y1, x2, y2);
        line.Color = color.WithAlpha(0.7);
        line.LineWidth = 1.5f;
    }

    /// <summary>Share of the exact fronts' hypervolume against the calls the whole front took (log scale): solid the cost plane, dashed the latency plane.</summary>
    private static string Hypervolume(RunTable curve, string[] learners, string path)
    {
        var plot = Figure.New("Share of the exact front's hypervolume covered by each learner's greedy policies (mean, 95% band over seeds)",
            "LLM calls for the whole front (log scale)", "hypervolume ratio");
        var learnerOf = curve.Strings("learner");
        var calls = curve.Numbers("front_calls");
        var maxLog = 1.0;
        for (var k = 0; k < learners.Length; k++)
        {
            var color = Figure.Palette[k % Figure.Palette.Length];
            var rows = Enumerable.Range(0, curve.RowCount).Where(i => learnerOf[i] == learners[k] && calls[i] >= 1).ToArray();
            if (rows.Length == 0)
                continue;
            var xs = rows.Select(i => Math.Log10(calls[i])).ToArray();
            maxLog = Math.Max(maxLog, xs.Max());
            foreach (var (column, pattern, label) in new[] { ("cost", LinePattern.Solid, "cost plane"), ("latency", LinePattern.Dashed, "latency plane") })
            {
                var mean = curve.Numbers($"{column}_ratio");
                var low = curve.Numbers($"{column}_lower95");
                var high = curve.Numbers($"{column}_upper95");
                if (rows.All(i => double.IsFinite(low[i]) && double.IsFinite(high[i])))
                    Figure.Band(plot, xs, rows.Select(i => low[i]).ToArray(), rows.Select(i => high[i]).ToArray(), color);
                var line = plot.Add.Scatter(xs, rows.Select(i => mean[i]).ToArray(), color);
                line.LinePattern = pattern;
                line.LineWidth = 2;
                line.MarkerSize = 0;
                line.LegendText = $"{learners[k]}, {label}";
            }
        }
        var target = plot.Add.HorizontalLine(0.95);
        target.LinePattern = LinePattern.Dotted;
        target.Color = Colors.Black;
        target.LegendText = "95% of the exact front";
        var decades = Enumerable.Range(0, (int)Math.Ceiling(maxLog) + 1).Select(d => (double)d).Where(d => d <= maxLog + 1e-9).ToArray();
        plot.Axes.Bottom.SetTicks(decades, decades.Select(d => Math.Pow(10, d).ToString("N0", CultureInfo.InvariantCulture)).ToArray());
        plot.Axes.SetLimitsY(0, 1.05);
        plot.ShowLegend(Edge.Right);
        return Figure.Save(plot, path, 1500, 800);
    }
}
