using System.Globalization;
using ScottPlot;

namespace RLWorkbench.Tracking.Plots;

/// <summary>
/// The figures of a `compare` run, drawn from its tables (curve_summary.csv, summary.csv, oracle.json):
/// each learner's greedy expected reward against LLM calls, and the calls it needed to reach the threshold.
/// </summary>
internal static class ComparisonPlots
{
    public static void Draw(RunRecord run, string dir, List<string> files, List<string> notes)
    {
        var summary = run.Table("summary");
        var curves = run.Table("curve_summary");
        var oracle = run.ReadJson("oracle.json");
        if (summary is null || curves is null || oracle is null)
        {
            notes.Add("a compare run needs summary.csv, curve_summary.csv and oracle.json for its figures.");
            return;
        }
        var threshold = oracle["threshold"]!.GetValue<double>();
        var fraction = oracle["thresholdFraction"]!.GetValue<double>();
        var learners = summary.Strings("learner");
        var names = summary.Has("description") ? summary.Strings("description") : learners;
        var problem = run.Config?["problem"]?["kind"]?.ToString() ?? "routing";
        var seeds = summary.Numbers("seeds").DefaultIfEmpty(0).Max();
        files.Add(RewardAgainstCalls(curves, learners, names, threshold, fraction, $"{problem}, {seeds:0} seeds", Path.Combine(dir, "reward_vs_calls.png")));
        if (summary.Has("log10_calls_budgeted_mean"))
            files.Add(CallsToThreshold(summary, names, curves.Numbers("calls").Max(), fraction, Path.Combine(dir, "calls_to_threshold.png")));
        else
            notes.Add("summary.csv has no log10_calls_budgeted columns (an older compare run): no calls-to-threshold figure.");
    }

    /// <summary>Mean greedy expected reward with its 95% band per learner, on a log axis of calls (learners differ by orders of magnitude).</summary>
    private static string RewardAgainstCalls(RunTable curves, string[] learners, string[] names, double threshold, double fraction, string what, string path)
    {
        var plot = Figure.New($"Greedy policy's expected reward against LLM calls ({what})", "LLM calls (log scale)", "expected reward per task");
        var rowLearner = curves.Strings("learner");
        var calls = curves.Numbers("calls");
        var mean = curves.Numbers("mean");
        var lower = curves.Numbers("lower95");
        var upper = curves.Numbers("upper95");
        var lastCalls = 1.0;
        for (var k = 0; k < learners.Length; k++)
        {
            // Checkpoint 0 has no logarithm: the curves start at the first call.
            var rows = Enumerable.Range(0, rowLearner.Length).Where(i => rowLearner[i] == learners[k] && calls[i] >= 1).ToArray();
            if (rows.Length == 0)
                continue;
            var color = Figure.Palette[k % Figure.Palette.Length];
            var x = rows.Select(i => Math.Log10(calls[i])).ToArray();
            lastCalls = Math.Max(lastCalls, rows.Max(i => calls[i]));
            if (rows.All(i => double.IsFinite(lower[i]) && double.IsFinite(upper[i])))
                Figure.Band(plot, x, rows.Select(i => lower[i]).ToArray(), rows.Select(i => upper[i]).ToArray(), color);
            Figure.Line(plot, x, rows.Select(i => mean[i]).ToArray(), names[k], color);
        }
        var line = plot.Add.HorizontalLine(threshold);
        line.LinePattern = LinePattern.Dashed;
        line.Color = Colors.Black;
        line.LegendText = string.Create(CultureInfo.InvariantCulture, $"{fraction * 100:0.#}% of oracle");
        DecadeTicks(plot.Axes.Bottom, Math.Log10(lastCalls));
        plot.ShowLegend(Alignment.LowerRight);
        return Figure.Save(plot, path, 1200, 750);
    }

    /// <summary>Mean log10 calls to the threshold per learner with its 95% interval; a seed that never reached it counts as the budget.</summary>
    private static string CallsToThreshold(RunTable summary, string[] names, double budget, double fraction, string path)
    {
        var plot = Figure.New(
            string.Create(CultureInfo.InvariantCulture, $"LLM calls until the greedy policy reaches {fraction * 100:0.#}% of the oracle (budget {budget:N0})"),
            "", "LLM calls (log scale)");
        var mean = summary.Numbers("log10_calls_budgeted_mean");
        var lower = summary.Numbers("log10_calls_budgeted_lower95");
        var upper = summary.Numbers("log10_calls_budgeted_upper95");
        var reached = summary.Numbers("seeds_reached");
        var seeds = summary.Numbers("seeds");
        var labels = new string[names.Length];
        for (var k = 0; k < names.Length; k++)
        {
            var all = reached[k] == seeds[k];
            var color = Figure.Palette[k % Figure.Palette.Length];
            plot.Add.Bars(new[]
            {
                new Bar
                {
                    Position = k,
                    Value = mean[k],
                    FillColor = all ? color : color.WithAlpha(0.35),
                    Error = double.IsFinite(lower[k]) && double.IsFinite(upper[k]) ? (upper[k] - lower[k]) / 2 : 0,
                    Size = 0.7,
                },
            });
            labels[k] = all ? names[k] : $"{names[k]} ({reached[k]:0}/{seeds[k]:0} reached)";
        }
        var budgetLine = plot.Add.HorizontalLine(Math.Log10(budget));
        budgetLine.LinePattern = LinePattern.Dashed;
        budgetLine.Color = Colors.Black;
        budgetLine.LegendText = "budget";
        plot.Axes.Bottom.SetTicks(labels.Select((_, i) => (double)i).ToArray(), labels);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 30;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 160;
        DecadeTicks(plot.Axes.Left, Math.Log10(budget));
        plot.Axes.Margins(bottom: 0);
        return Figure.Save(plot, path, 1200, 750);
    }

    /// <summary>Ticks at 1, 10, 100, ... labelled with the call counts rather than their logarithms.</summary>
    private static void DecadeTicks(IAxis axis, double maxLog10)
    {
        var decades = Enumerable.Range(0, (int)Math.Ceiling(maxLog10) + 1).Select(d => (double)d).Where(d => d <= maxLog10 + 1e-9).ToArray();
        axis.SetTicks(decades, decades.Select(d => Math.Pow(10, d).ToString("N0", CultureInfo.InvariantCulture)).ToArray());
    }
}
