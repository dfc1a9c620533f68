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
        var styles = learners.Select((l, k) => StyleOf(l, k)).ToArray();
        files.Add(RewardAgainstCalls(curves, learners, names, styles, threshold, fraction, $"{problem}, {seeds:0} seeds", Path.Combine(dir, "reward_vs_calls.png")));
        if (summary.Has("settled_median_calls"))
            files.Add(CallsToThreshold(summary, names, styles, fraction, Path.Combine(dir, "calls_to_threshold.png")));
        else
            notes.Add("summary.csv has no settled_median_calls column (an older compare run): no calls-to-threshold figure.");
    }

    /// <summary>How one learner is drawn: colour, line pattern, width and marker, so no two learners look alike.</summary>
    private sealed record LearnerStyle(Color Color, LinePattern Pattern, float Width, MarkerShape Marker);

    /// <summary>
    /// Fixed styles for the learners compare knows. Random, round-robin and least-recently-used have the same value on
    /// the base problem, so their lines lie on one another: they differ in width (widest underneath) as well as colour,
    /// pattern and marker, so each stays visible.
    /// </summary>
    private static readonly Dictionary<string, LearnerStyle> Styles = new()
    {
        ["qlearn"] = new(Color.FromHex("#1f77b4"), LinePattern.Solid, 2.5f, MarkerShape.FilledCircle),
        ["ppo-seed"] = new(Color.FromHex("#ff7f0e"), LinePattern.Solid, 2.5f, MarkerShape.FilledSquare),
        ["ppo-small"] = new(Color.FromHex("#2ca02c"), LinePattern.Solid, 2.5f, MarkerShape.FilledTriangleUp),
        ["ppo-seed-settings"] = new(Color.FromHex("#8c564b"), LinePattern.Dashed, 2.5f, MarkerShape.FilledDiamond),
        ["ucb1"] = new(Color.FromHex("#9467bd"), LinePattern.Solid, 2f, MarkerShape.OpenCircle),
        ["thompson"] = new(Color.FromHex("#e377c2"), LinePattern.Dashed, 2f, MarkerShape.OpenSquare),
        ["random"] = new(Color.FromHex("#bcbd22"), LinePattern.Solid, 9f, MarkerShape.OpenTriangleUp),
        ["round-robin"] = new(Color.FromHex("#17becf"), LinePattern.Solid, 5f, MarkerShape.OpenDiamond),
        ["lru"] = new(Color.FromHex("#7f7f7f"), LinePattern.Dotted, 2f, MarkerShape.Cross),
        ["oracle"] = new(Color.FromHex("#d62728"), LinePattern.DenselyDashed, 2f, MarkerShape.Eks),
    };

    /// <summary>
    /// The chain learners come in families with variants: a family keeps its colour and marker, and the variant picks the
    /// line (plain solid, pair table dashed, collaboration state dotted), so a reader can tell family and variant apart.
    /// </summary>
    private static readonly (string Prefix, Color Color, MarkerShape Marker)[] ChainFamilies =
    [
        ("composed-chains", Color.FromHex("#17becf"), MarkerShape.FilledDiamond),
        ("ucb1-chains", Color.FromHex("#9467bd"), MarkerShape.FilledCircle),
        ("thompson-chains", Color.FromHex("#e377c2"), MarkerShape.FilledSquare),
        ("qlearn-chains", Color.FromHex("#1f77b4"), MarkerShape.FilledTriangleUp),
    ];

    private static readonly Dictionary<string, LearnerStyle> ChainBaselines = new()
    {
        ["longest-chain"] = new(Color.FromHex("#8c564b"), LinePattern.Solid, 5f, MarkerShape.OpenTriangleDown),
        ["best-single"] = new(Color.FromHex("#bcbd22"), LinePattern.DenselyDashed, 3f, MarkerShape.OpenDiamond),
        ["random-chain"] = new(Color.FromHex("#7f7f7f"), LinePattern.Solid, 6f, MarkerShape.OpenTriangleUp),
    };

    private static LearnerStyle StyleOf(string learner, int index)
    {
        if (Styles.TryGetValue(learner, out var style) || ChainBaselines.TryGetValue(learner, out style))
            return style;
        foreach (var (prefix, color, marker) in ChainFamilies)
        {
            if (!learner.StartsWith(prefix, StringComparison.Ordinal))
                continue;
            var variant = learner[prefix.Length..];
            var pattern = variant switch { "-pairs" => LinePattern.Dashed, "-state" => LinePattern.Dotted, _ => LinePattern.Solid };
            return new LearnerStyle(color, pattern, variant.Length == 0 ? 2.5f : 2f, marker);
        }
        return new LearnerStyle(Figure.Palette[index % Figure.Palette.Length], LinePattern.Solid, 2f, MarkerShape.FilledCircle);
    }

    /// <summary>Mean greedy expected reward with its 95% band per learner, on a log axis of calls (learners differ by orders of magnitude).</summary>
    private static string RewardAgainstCalls(RunTable curves, string[] learners, string[] names, LearnerStyle[] styles, double threshold, double fraction, string what, string path)
    {
        var plot = Figure.New($"Greedy policy's expected reward against LLM calls ({what}; mean and 95% bootstrap band over seeds)", "LLM calls (log scale)", "expected reward per task");
        var rowLearner = curves.Strings("learner");
        var calls = curves.Numbers("calls");
        var mean = curves.Numbers("mean");
        var lower = curves.Numbers("lower95");
        var upper = curves.Numbers("upper95");
        var lastCalls = 1.0;
        var legend = new List<LegendItem>();
        // Checkpoint 0 has no logarithm: the curves start at the first call.
        var rowsOf = learners.Select(l => Enumerable.Range(0, rowLearner.Length).Where(i => rowLearner[i] == l && calls[i] >= 1).ToArray()).ToArray();
        // Every band before any line, so no learner's band tints another's line.
        for (var k = 0; k < learners.Length; k++)
        {
            var rows = rowsOf[k];
            if (rows.Length > 0 && rows.All(i => double.IsFinite(lower[i]) && double.IsFinite(upper[i])))
                Figure.Band(plot, rows.Select(i => Math.Log10(calls[i])).ToArray(), rows.Select(i => lower[i]).ToArray(), rows.Select(i => upper[i]).ToArray(), styles[k].Color);
        }
        for (var k = 0; k < learners.Length; k++)
        {
            var rows = rowsOf[k];
            if (rows.Length == 0)
                continue;
            var style = styles[k];
            var x = rows.Select(i => Math.Log10(calls[i])).ToArray();
            lastCalls = Math.Max(lastCalls, rows.Max(i => calls[i]));
            var line = plot.Add.Scatter(x, rows.Select(i => mean[i]).ToArray(), style.Color);
            line.LineWidth = style.Width;
            line.LinePattern = style.Pattern;
            line.MarkerSize = 0;
            // A few markers per decade tell the lines apart where they overlap, without crowding the dense early checkpoints.
            var marked = MarkerPoints(x);
            var markers = plot.Add.ScatterPoints(marked.Select(i => x[i]).ToArray(), marked.Select(i => mean[rows[i]]).ToArray(), style.Color);
            markers.MarkerShape = style.Marker;
            markers.MarkerSize = 9;
            legend.Add(LegendEntry(names[k], style));
        }
        var line0 = plot.Add.HorizontalLine(threshold);
        line0.LinePattern = LinePattern.Dashed;
        line0.Color = Colors.Black;
        var thresholdLabel = string.Create(CultureInfo.InvariantCulture, $"{fraction * 100:0.#}% of oracle");
        legend.Add(LegendEntry(thresholdLabel, new LearnerStyle(Colors.Black, LinePattern.Dashed, 2f, MarkerShape.None)));
        DecadeTicks(plot.Axes.Bottom, Math.Log10(lastCalls));
        // The legend is built by hand so each entry shows its learner's line and marker together.
        plot.ShowLegend(legend.ToArray());
        plot.Legend.Alignment = Alignment.LowerRight;
        // A long legend (the chain comparison has 17 learners) would cover the curves: it goes beside the data area instead.
        if (legend.Count > 12)
        {
            plot.ShowLegend(Edge.Right);
            return Figure.Save(plot, path, 1500, 800);
        }
        return Figure.Save(plot, path, 1200, 750);
    }

    private static LegendItem LegendEntry(string label, LearnerStyle style) => new()
    {
        LabelText = label,
        LineColor = style.Color,
        LineWidth = Math.Min(style.Width, 5),
        LinePattern = style.Pattern,
        MarkerShape = style.Marker,
        MarkerSize = 9,
        MarkerFillColor = style.Color,
        MarkerLineColor = style.Color,
    };

    /// <summary>Indices of points about a quarter of a decade apart.</summary>
    private static List<int> MarkerPoints(double[] log10Calls)
    {
        var marked = new List<int>();
        var next = double.NegativeInfinity;
        for (var i = 0; i < log10Calls.Length; i++)
        {
            if (log10Calls[i] >= next)
            {
                marked.Add(i);
                next = log10Calls[i] + 0.25;
            }
        }
        return marked;
    }

    /// <summary>
    /// Per learner the Kaplan-Meier median calls until its greedy policy settles at the threshold (bar, with its 95%
    /// bootstrap interval as a whisker) and the median first crossing (open diamond), the same statistics as summary.csv
    /// and the report's table. A median beyond the budget is a pale bar up to the budget, labelled "&gt; budget".
    /// </summary>
    private static string CallsToThreshold(RunTable summary, string[] names, LearnerStyle[] styles, double fraction, string path)
    {
        var budget = summary.Numbers("budget_calls").Max();
        var plot = Figure.New(
            string.Create(CultureInfo.InvariantCulture, $"Median LLM calls until the greedy policy settles at {fraction * 100:0.#}% of the oracle (Kaplan-Meier, 95% bootstrap interval; budget {budget:N0})"),
            "", "LLM calls (log scale; 0 is drawn at 1)");
        var median = summary.Numbers("settled_median_calls");
        var lower = summary.Numbers("settled_median_lower95");
        var upper = summary.Numbers("settled_median_upper95");
        var first = summary.Numbers("first_crossing_median_calls");
        var reached = summary.Numbers("settled_seeds");
        var seeds = summary.Numbers("seeds");
        var top = Math.Log10(Math.Max(budget, 1));
        static double Log(double calls) => Math.Log10(Math.Max(calls, 1));
        var labels = new string[names.Length];
        var firstLabelled = false;
        for (var k = 0; k < names.Length; k++)
        {
            var color = styles[k].Color;
            var beyond = !double.IsFinite(median[k]);
            plot.Add.Bars(new[] { new Bar { Position = k, Value = beyond ? top : Log(median[k]), FillColor = beyond ? color.WithAlpha(0.3) : color, Size = 0.7 } });
            if (!beyond && double.IsFinite(lower[k]))
            {
                // An upper bound beyond the budget runs the whisker to the budget line.
                var high = double.IsFinite(upper[k]) ? Log(upper[k]) : top;
                var whisker = plot.Add.Line(k, Log(lower[k]), k, high);
                whisker.Color = Colors.Black;
                whisker.LineWidth = 2;
                foreach (var y in new[] { Log(lower[k]), high })
                {
                    var cap = plot.Add.Line(k - 0.12, y, k + 0.12, y);
                    cap.Color = Colors.Black;
                    cap.LineWidth = 2;
                }
            }
            if (double.IsFinite(first[k]))
            {
                var marker = plot.Add.Marker(k + 0.25, Log(first[k]), MarkerShape.OpenDiamond, 12, Colors.Black);
                marker.LegendText = firstLabelled ? "" : "median first crossing (Kaplan-Meier)";
                firstLabelled = true;
            }
            if (beyond)
            {
                var note = plot.Add.Text("> budget", k, top);
                note.LabelFontSize = 12;
                note.LabelAlignment = Alignment.LowerCenter;
            }
            labels[k] = string.Create(CultureInfo.InvariantCulture, $"{names[k]} ({reached[k]:0}/{seeds[k]:0} settled)");
        }
        var budgetLine = plot.Add.HorizontalLine(top);
        budgetLine.LinePattern = LinePattern.Dashed;
        budgetLine.Color = Colors.Black;
        budgetLine.LegendText = "budget (a pale bar to it: median beyond the budget)";
        plot.Axes.Bottom.SetTicks(labels.Select((_, i) => (double)i).ToArray(), labels);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 30;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 220;
        plot.Axes.Right.MinimumSize = 160;
        DecadeTicks(plot.Axes.Left, top);
        // Room above the budget line for the "> budget" notes and the legend.
        plot.Axes.SetLimitsY(0, top + 0.35 + 0.1 * top);
        plot.ShowLegend(Alignment.UpperLeft);
        return Figure.Save(plot, path, 1300, 800);
    }

    /// <summary>Ticks at 1, 10, 100, ... labelled with the call counts rather than their logarithms.</summary>
    private static void DecadeTicks(IAxis axis, double maxLog10)
    {
        var decades = Enumerable.Range(0, (int)Math.Ceiling(maxLog10) + 1).Select(d => (double)d).Where(d => d <= maxLog10 + 1e-9).ToArray();
        axis.SetTicks(decades, decades.Select(d => Math.Pow(10, d).ToString("N0", CultureInfo.InvariantCulture)).ToArray());
    }
}
