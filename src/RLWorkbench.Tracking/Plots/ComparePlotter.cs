using ScottPlot;

namespace RLWorkbench.Tracking.Plots;

/// <summary>Runs that share a configuration except their seed, drawn as one mean curve with a band.</summary>
public sealed record RunGroup(string Label, string Kind, IReadOnlyList<RunRecord> Runs);

/// <summary>
/// `plot --compare`: several runs' curves on shared axes, one panel per quantity. Runs of the same kind
/// whose parameters match apart from seeds are one group, drawn as mean +- standard deviation.
/// </summary>
public static class ComparePlotter
{
    public static IReadOnlyList<RunGroup> Group(IReadOnlyList<RunRecord> runs)
    {
        return runs
            .GroupBy(r => r.Kind + "\n" + ConfigurationKey(r), StringComparer.Ordinal)
            .Select(g =>
            {
                var members = g.ToList();
                // Named after its first run; the legend adds how many seeds the band is over.
                return new RunGroup(members[0].Id, members[0].Kind, members);
            })
            .ToList();
    }

    /// <summary>The run's parameters without any seed, as one comparable string.</summary>
    public static string ConfigurationKey(RunRecord run) => string.Join(
        "\n",
        run.Parameters
            .Where(p => !p.Key.Split('.')[^1].Contains("seed", StringComparison.OrdinalIgnoreCase))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => p.Key + "=" + p.Value));

    private sealed record Curve(string Title, string Kind, string Table, string Column, string XLabel, string YLabel, bool Smooth);

    private static readonly Curve[] Curves =
    [
        new("PPO training reward", "ppo", "metrics", "ep_rew_mean", "environment steps", "mean episode return (reward)", false),
        new("PPO evaluation reward", "ppo", "eval", "mean_reward", "environment steps", "mean evaluation return (reward)", false),
        new("Q-learning adjusted reward (moving average)", "qlearn", "iterations", "adjusted_reward", "iteration (routed task)", "adjusted reward", true),
        new("Fixed-policy episode return (moving average)", "env-run", "episodes", "return", "episode", "episode return (reward)", true),
    ];

    public static PlotResult Compare(IReadOnlyList<RunRecord> runs, string path)
    {
        var groups = Group(runs);
        var notes = new List<string>();
        var panels = Curves.Where(c => groups.Any(g => g.Kind == c.Kind && g.Runs.Any(r => r.Table(c.Table)?.Has(c.Column) == true))).ToList();
        if (panels.Count == 0)
        {
            notes.Add("none of these runs has a table to compare (metrics, eval, iterations or episodes).");
            return new PlotResult([], notes);
        }
        var grid = Figure.Grid(panels.Count, 1);
        for (var p = 0; p < panels.Count; p++)
        {
            var curve = panels[p];
            var plot = grid.GetPlot(p);
            Figure.Style(plot, curve.Title, curve.XLabel, curve.YLabel);
            var colour = 0;
            var drawnRuns = new List<RunRecord>();
            foreach (var group in groups.Where(g => g.Kind == curve.Kind))
            {
                var series = new List<(double[] X, double[] Y)>();
                foreach (var run in group.Runs)
                {
                    if (run.Table(curve.Table) is not { } table || !table.Has(curve.Column))
                    {
                        notes.Add($"{run.Id} has no {curve.Column} in {curve.Table}.csv; it is left out of '{curve.Title}'.");
                        continue;
                    }
                    var (x, y) = SeriesMath.Finite(table.Steps(), table.Numbers(curve.Column));
                    if (curve.Smooth)
                        y = SeriesMath.MovingAverage(y, SeriesMath.DefaultWindow(y.Length));
                    series.Add((x, y));
                    drawnRuns.Add(run);
                }
                if (series.Count == 0)
                    continue;
                var color = Figure.Palette[colour++ % Figure.Palette.Length];
                if (series.Count == 1)
                {
                    Figure.Line(plot, series[0].X, series[0].Y, group.Label, color);
                    continue;
                }
                var band = SeriesMath.MeanBand(series);
                Figure.Band(plot, band.X, band.Lower, band.Upper, color);
                Figure.Line(plot, band.X, band.Mean, $"{group.Label}: mean +- std over {band.Runs} seeds", color);
            }
            if (curve.Kind == "ppo" && drawnRuns.Count > 0)
            {
                var shared = Phase1References.ForAll(drawnRuns.Select(r => r.Parameters));
                Figure.ReferenceLines(plot, shared);
                if (shared.Count == 0 && drawnRuns.Any(r => Phase1References.For(r.Parameters).Count > 0))
                    notes.Add($"'{curve.Title}' has no reference lines: not every run in it is on the Phase 1 base environment with 4 agents.");
            }
            Figure.Legend(plot);
        }
        return new PlotResult([Figure.Save(grid, path, 1500, 600 * panels.Count)], notes);
    }
}
