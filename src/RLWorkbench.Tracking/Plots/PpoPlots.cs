using ScottPlot;

namespace RLWorkbench.Tracking.Plots;

/// <summary>Phase 1 figures from metrics.csv, eval.csv and episodes.csv.</summary>
internal static class PpoPlots
{
    private const string Steps = "environment steps";

    public static void Draw(RunRecord run, string dir, List<string> files, List<string> notes)
    {
        var metrics = run.Table("metrics");
        var eval = run.Table("eval");
        if (metrics is null && eval is null)
            notes.Add("no metrics.csv or eval.csv: no learning curve or training diagnostics.");
        else
            files.Add(LearningCurve(metrics, eval, Path.Combine(dir, "learning_curve.png"), run.Id, Phase1References.For(run.Parameters)));
        if (metrics is not null)
        {
            files.Add(TwoPanels(metrics, ("policy_loss", "Policy loss", "loss"), ("value_loss", "Value loss", "loss (squared return error)"), Path.Combine(dir, "losses.png")));
            files.Add(Single(metrics, "entropy_loss", "Entropy loss (negative policy entropy)", "entropy loss (nats)", Path.Combine(dir, "entropy.png")));
            files.Add(TwoPanels(metrics, ("approx_kl", "Approximate KL between old and new policy", "KL (nats)"), ("clip_fraction", "Fraction of samples clipped", "fraction"), Path.Combine(dir, "kl_clip.png")));
            files.Add(Single(metrics, "explained_variance", "Explained variance of the value function", "explained variance (1 = perfect)", Path.Combine(dir, "explained_variance.png")));
            files.Add(Single(metrics, "steps_per_second", "Training throughput", "environment steps per second", Path.Combine(dir, "steps_per_second.png")));
        }
        else
        {
            notes.Add("no metrics.csv: no losses, entropy, KL, explained variance or throughput plots.");
        }
        if (run.Table("episodes") is { } episodes)
            files.Add(Dashboard(episodes, "step", Steps, Path.Combine(dir, "dashboard.png"), run.Id));
        else
            notes.Add("no episodes.csv: no performance dashboard.");
        if (eval is null && metrics is not null)
            notes.Add("no eval.csv: the learning curve shows training reward only.");
    }

    /// <param name="references">Fixed policies' returns to draw for scale (empty when none hold for the run's environment).</param>
    public static string LearningCurve(RunTable? metrics, RunTable? eval, string path, string runId, IReadOnlyList<Phase1References.Reference> references)
    {
        var plot = Figure.New($"Learning curve - {runId}", Steps, "episode return (reward)");
        var drawn = false;
        if (metrics is not null && metrics.Has("ep_rew_mean"))
            drawn |= Figure.Line(plot, metrics.Steps(), metrics.Numbers("ep_rew_mean"), "training: mean episode return (ep_rew_mean)", Figure.Palette[0]);
        if (eval is not null && eval.Has("mean_reward"))
        {
            var steps = eval.Steps();
            var means = eval.Numbers("mean_reward");
            var stds = eval.Has("std_reward") ? eval.Numbers("std_reward") : new double[eval.RowCount];
            var rows = Enumerable.Range(0, eval.RowCount).Where(i => double.IsFinite(steps[i]) && double.IsFinite(means[i])).OrderBy(i => steps[i]).ToArray();
            var x = rows.Select(i => steps[i]).ToArray();
            var mean = rows.Select(i => means[i]).ToArray();
            var std = rows.Select(i => double.IsFinite(stds[i]) ? stds[i] : 0).ToArray();
            Figure.Band(plot, x, mean.Zip(std, (m, d) => m - d).ToArray(), mean.Zip(std, (m, d) => m + d).ToArray(), Figure.Palette[1], "evaluation: mean +- std");
            drawn |= Figure.Line(plot, x, mean, "evaluation: mean return", Figure.Palette[1], markers: true);
        }
        if (!drawn)
            Figure.NoData(plot, "ep_rew_mean or evaluation");
        else
            Figure.ReferenceLines(plot, references);
        Figure.Legend(plot);
        return Figure.Save(plot, path);
    }

    private static string Single(RunTable table, string column, string title, string yLabel, string path)
    {
        var plot = Figure.New(title, Steps, yLabel);
        if (!table.Has(column) || !Figure.Line(plot, table.Steps(), table.Numbers(column), column, Figure.Palette[0]))
            Figure.NoData(plot, column);
        Figure.Legend(plot);
        return Figure.Save(plot, path);
    }

    private static string TwoPanels(RunTable table, (string Column, string Title, string YLabel) left, (string Column, string Title, string YLabel) right, string path)
    {
        var grid = Figure.Grid(1, 2);
        foreach (var (panel, (column, title, yLabel)) in new[] { (grid.GetPlot(0), left), (grid.GetPlot(1), right) })
        {
            Figure.Style(panel, title, Steps, yLabel);
            if (!table.Has(column) || !Figure.Line(panel, table.Steps(), table.Numbers(column), column, Figure.Palette[0]))
                Figure.NoData(panel, column);
            Figure.Legend(panel);
        }
        return Figure.Save(grid, path, 1600, 650);
    }

    /// <summary>
    /// The seed's four-panel performance dashboard from finished episodes: reward, tasks completed,
    /// utilisation (mean agent load) and collaboration, each with its moving average.
    /// </summary>
    public static string Dashboard(RunTable episodes, string xColumn, string xLabel, string path, string runId)
    {
        var grid = Figure.Grid(2, 2);
        var x = episodes.Has(xColumn) ? episodes.Numbers(xColumn) : episodes.Steps();
        var window = SeriesMath.DefaultWindow(episodes.RowCount);
        var panels = new (string Column, string Title, string YLabel)[]
        {
            ("return", $"Episode reward - {runId}", "episode return (reward)"),
            ("tasks_completed", "Tasks completed per episode", "tasks completed"),
            ("mean_agent_load", "Agent utilisation", "mean agent load (summed task complexity)"),
            ("mean_collaboration", "Collaboration", "mean collaboration-matrix value (1 = none)"),
        };
        for (var i = 0; i < panels.Length; i++)
        {
            var (column, title, yLabel) = panels[i];
            var panel = grid.GetPlot(i);
            Figure.Style(panel, title, xLabel, yLabel);
            if (!episodes.Has(column))
            {
                Figure.NoData(panel, column);
                continue;
            }
            var y = episodes.Numbers(column);
            var (sx, sy) = SeriesMath.Finite(x, y);
            Figure.Points(panel, sx, sy, "per episode", Figure.Palette[i]);
            Figure.Line(panel, sx, SeriesMath.MovingAverage(sy, window), $"moving average ({window} episodes)", Figure.Palette[i]);
            Figure.Legend(panel);
        }
        return Figure.Save(grid, path, 1600, 1100);
    }
}
