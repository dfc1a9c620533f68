using ScottPlot;

namespace RLWorkbench.Tracking.Plots;

/// <summary>One group of runs that differ only by seed (a sweep configuration): each run's curve, and what the legend should add.</summary>
/// <param name="Label">The group for a reader ("c00 ppo.learningRate=0.0001").</param>
/// <param name="Runs">Each seed's curve, x and y.</param>
/// <param name="LeftOut">Seeds of the group not drawn (not finished), counted in the legend so none disappears silently.</param>
public sealed record SeedCurves(string Label, IReadOnlyList<(double[] X, double[] Y)> Runs, int LeftOut = 0);

/// <summary>
/// Learning curves of several configurations on one axis: per configuration the mean over its seeds and
/// the 95% Student-t interval of that mean as a band (<see cref="SeriesMath.MeanBand"/> puts the seeds on
/// one x grid), with horizontal reference lines for fixed policies where they apply.
/// </summary>
public static class SeedCurvesPlot
{
    public const int Width = 1700;
    public const int Height = 850;

    public static PlotResult Draw(
        IReadOnlyList<SeedCurves> groups,
        IReadOnlyList<Phase1References.Reference> references,
        string title,
        string xLabel,
        string yLabel,
        string path)
    {
        var notes = new List<string>();
        var plot = Figure.New(title, xLabel, yLabel);
        // Every band before every mean line, so no band dims another configuration's line; the thin dashed
        // references last, so the legend lists the configurations first.
        var lines = new List<(SeedBand Band, string Label, Color Color, LinePattern? Pattern)>();
        for (var g = 0; g < groups.Count; g++)
        {
            var group = groups[g];
            var color = Figure.Palette[g % Figure.Palette.Length];
            var runs = group.Runs.Where(r => SeriesMath.Finite(r.X, r.Y).X.Length > 0).ToList();
            var leftOut = group.LeftOut > 0 ? $" ({group.LeftOut} unfinished left out)" : "";
            if (runs.Count == 0)
            {
                notes.Add($"{group.Label}: no curve to draw (no finished seed with points).");
                continue;
            }
            var band = SeriesMath.MeanBand(runs);
            if (band.X.Length == 0)
            {
                notes.Add($"{group.Label}: its seeds' curves share no x range; nothing drawn.");
                continue;
            }
            string label;
            if (band.Runs >= 2)
            {
                var (lower, upper) = band.Interval95();
                Figure.Band(plot, band.X, lower, upper, color);
                label = $"{group.Label}: mean and 95% interval, n={band.Runs}{leftOut}";
            }
            else
            {
                label = $"{group.Label}: n=1, no interval{leftOut}";
            }
            // Past eight configurations the colours repeat; a dash pattern keeps the repeats apart.
            lines.Add((band, label, color, g >= Figure.Palette.Length ? LinePattern.Dashed : null));
        }
        foreach (var (band, label, color, pattern) in lines)
            Figure.Line(plot, band.X, band.Mean, label, color, markers: band.X.Length <= 30, pattern: pattern);
        if (lines.Count == 0)
            Figure.NoData(plot, "finished curve");
        Figure.ReferenceLines(plot, references);
        plot.ShowLegend(Edge.Right);
        Figure.SaveAtomically(plot, path, Width, Height);
        return new PlotResult([path], notes);
    }
}
