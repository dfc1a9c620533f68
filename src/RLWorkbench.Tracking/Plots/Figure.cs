using ScottPlot;

namespace RLWorkbench.Tracking.Plots;

/// <summary>The look every workbench plot shares, and the few ways they draw data.</summary>
internal static class Figure
{
    public const int Width = 1100;
    public const int Height = 700;

    public static Plot New(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        Style(plot, title, xLabel, yLabel);
        return plot;
    }

    public static void Style(Plot plot, string title, string xLabel, string yLabel)
    {
        plot.Font.Set("DejaVu Sans");
        plot.Title(title, 16);
        plot.XLabel(xLabel, 13);
        plot.YLabel(yLabel, 13);
    }

    /// <summary>A line through the finite points; false (and nothing drawn) when there are none.</summary>
    public static bool Line(Plot plot, IReadOnlyList<double> x, IReadOnlyList<double> y, string label, Color? color = null, float width = 2, bool markers = false, LinePattern? pattern = null)
    {
        var (xs, ys) = SeriesMath.Finite(x, y);
        if (xs.Length == 0)
            return false;
        var line = plot.Add.Scatter(xs, ys, color);
        line.LegendText = label;
        line.LineWidth = width;
        line.MarkerSize = markers || xs.Length == 1 ? 5 : 0;
        if (pattern is { } p)
            line.LinePattern = p;
        return true;
    }

    public static bool Points(Plot plot, IReadOnlyList<double> x, IReadOnlyList<double> y, string label, Color color)
    {
        var (xs, ys) = SeriesMath.Finite(x, y);
        if (xs.Length == 0)
            return false;
        var points = plot.Add.ScatterPoints(xs, ys, color.WithAlpha(0.35));
        points.LegendText = label;
        points.MarkerSize = 4;
        return true;
    }

    public static void Band(Plot plot, double[] x, double[] lower, double[] upper, Color color, string? label = null)
    {
        if (x.Length == 0)
            return;
        var fill = plot.Add.FillY(x, lower, upper);
        fill.FillColor = color.WithAlpha(0.2);
        fill.LineWidth = 0;
        if (label is not null)
            fill.LegendText = label;
    }

    /// <summary>Bars with a text label under each, for categories (agents, task types, load states).</summary>
    public static void CategoryBars(Plot plot, IReadOnlyList<string> labels, IReadOnlyList<double> values, Color color, string legend, double offset = 0, double size = 0.8)
    {
        var bars = labels.Select((_, i) => new Bar { Position = i + offset, Value = double.IsFinite(values[i]) ? values[i] : 0, FillColor = color, Size = size }).ToArray();
        var plotted = plot.Add.Bars(bars);
        plotted.LegendText = legend;
        plot.Axes.Bottom.SetTicks(labels.Select((_, i) => (double)i).ToArray(), labels.ToArray());
        // Labels that would run into each other at a panel's width are turned to read downwards.
        if (labels.Sum(l => l.Length + 2) * 7 > 600)
        {
            plot.Axes.Bottom.TickLabelStyle.Rotation = 90;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
            plot.Axes.Bottom.MinimumSize = 30 + 8 * labels.Max(l => l.Length);
        }
        plot.Axes.Margins(bottom: 0);
    }

    /// <summary>
    /// Dashed grey horizontal lines at fixed policies' returns, labelled in the legend, thin enough that
    /// the data stays in front.
    /// </summary>
    public static void ReferenceLines(Plot plot, IReadOnlyList<Phase1References.Reference> references)
    {
        var greys = new[] { Color.FromHex("#555555"), Color.FromHex("#888888"), Color.FromHex("#222222"), Color.FromHex("#aaaaaa") };
        for (var i = 0; i < references.Count; i++)
        {
            var line = plot.Add.HorizontalLine(references[i].MeanReturn, 1.5f, greys[i % greys.Length], LinePattern.Dashed);
            line.LegendText = $"reference: {references[i].Label} ({references[i].MeanReturn:0})";
        }
    }

    public static void NoData(Plot plot, string what)
    {
        plot.Add.Annotation($"no {what} in this run", Alignment.MiddleCenter);
    }

    public static void Legend(Plot plot)
    {
        if (plot.GetPlottables().Any(p => p.LegendItems.Any(i => !string.IsNullOrEmpty(i.LabelText))))
            plot.ShowLegend(Alignment.UpperLeft);
    }

    public static string Save(Plot plot, string path, int width = Width, int height = Height)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plot.SavePng(path, width, height);
        return path;
    }

    /// <summary>Like <see cref="Save(Plot, string, int, int)"/>, through a temporary file, so a reader never finds half a PNG.</summary>
    public static string SaveAtomically(Plot plot, string path, int width = Width, int height = Height)
    {
        var bytes = plot.GetImageBytes(width, height, ImageFormat.Png);
        AtomicFile.Write(path, stream => stream.Write(bytes));
        return path;
    }

    public static string Save(Multiplot multiplot, string path, int width, int height)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        multiplot.SavePng(path, width, height);
        return path;
    }

    public static Multiplot Grid(int rows, int columns)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(rows * columns);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, columns);
        return multiplot;
    }

    public static readonly Color[] Palette =
    [
        Color.FromHex("#1f77b4"), Color.FromHex("#ff7f0e"), Color.FromHex("#2ca02c"), Color.FromHex("#d62728"),
        Color.FromHex("#9467bd"), Color.FromHex("#8c564b"), Color.FromHex("#e377c2"), Color.FromHex("#7f7f7f"),
    ];
}
