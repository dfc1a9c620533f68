using System.Text.Json.Nodes;
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
            files.Add(LearningCurve(metrics, eval, FinalOf(run), Path.Combine(dir, "learning_curve.png"), run.Id, Phase1References.For(run.Parameters)));
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

    /// <summary>A run's final deterministic evaluation (summary.json), drawn as its own point after the periodic ones.</summary>
    public sealed record FinalEvaluation(long Step, int Episodes, double Mean, double Std);

    public static FinalEvaluation? FinalOf(RunRecord run)
    {
        var summary = run.ReadJson("summary.json");
        if (summary?["finalEvaluation"] is not JsonObject final || summary["totalSteps"] is not JsonValue steps)
            return null;
        return new FinalEvaluation(steps.GetValue<long>(), final["episodes"]?.GetValue<int>() ?? 0,
            final["mean"]?.GetValue<double>() ?? double.NaN, final["std"]?.GetValue<double>() ?? double.NaN);
    }

    /// <summary>
    /// Training return and deterministic evaluation in two panels over one step axis: early on they lie hundreds apart
    /// (the clipped Gaussian's mean action assigns nothing), so on one axis both would look flat. Each panel carries
    /// the fixed policies' returns for scale; the evaluation panel ends with the final evaluation.
    /// </summary>
    /// <param name="references">Fixed policies' returns to draw for scale (empty when none hold for the run's environment).</param>
    public static string LearningCurve(RunTable? metrics, RunTable? eval, FinalEvaluation? final, string path, string runId, IReadOnlyList<Phase1References.Reference> references)
    {
        var grid = Figure.Grid(2, 1);
        var training = grid.GetPlot(0);
        var evaluation = grid.GetPlot(1);
        Figure.Style(training, $"Training return - {runId}", Steps, "mean return, last 100 episodes");
        Figure.Style(evaluation, EvaluationTitle(metrics, eval), Steps, "mean return over the evaluation episodes");

        var trainingPoints = new List<(double X, double Y)>();
        var evaluationPoints = new List<(double X, double Y)>();
        if (metrics is not null && metrics.Has("ep_rew_mean")
            && Figure.Line(training, metrics.Steps(), metrics.Numbers("ep_rew_mean"), "training: ep_rew_mean (sampled actions)", Figure.Palette[0]))
        {
            var (x, y) = SeriesMath.Finite(metrics.Steps(), metrics.Numbers("ep_rew_mean"));
            trainingPoints.AddRange(x.Zip(y));
            ReferencesBesideData(training, references);
        }
        else
        {
            Figure.NoData(training, "ep_rew_mean");
        }

        var drawn = false;
        if (eval is not null && eval.Has("mean_reward"))
        {
            var steps = eval.Steps();
            var means = eval.Numbers("mean_reward");
            var stds = eval.Has("std_reward") ? eval.Numbers("std_reward") : new double[eval.RowCount];
            var rows = Enumerable.Range(0, eval.RowCount).Where(i => double.IsFinite(steps[i]) && double.IsFinite(means[i])).OrderBy(i => steps[i]).ToArray();
            var x = rows.Select(i => steps[i]).ToArray();
            var mean = rows.Select(i => means[i]).ToArray();
            var std = rows.Select(i => double.IsFinite(stds[i]) ? stds[i] : 0).ToArray();
            Figure.Band(evaluation, x, mean.Zip(std, (m, d) => m - d).ToArray(), mean.Zip(std, (m, d) => m + d).ToArray(), Figure.Palette[1], "periodic: mean +- std");
            drawn |= Figure.Line(evaluation, x, mean, "periodic: mean return", Figure.Palette[1], markers: true);
            for (var i = 0; i < x.Length; i++)
                evaluationPoints.AddRange([(x[i], mean[i] - std[i]), (x[i], mean[i] + std[i])]);
        }
        if (final is { } f && double.IsFinite(f.Mean))
        {
            var spread = double.IsFinite(f.Std) ? f.Std : 0;
            var bar = evaluation.Add.Line(f.Step, f.Mean - spread, f.Step, f.Mean + spread);
            bar.LineColor = FinalColor;
            bar.LineWidth = 2;
            var point = evaluation.Add.Scatter(new double[] { f.Step }, new[] { f.Mean }, FinalColor);
            point.MarkerSize = 11;
            point.LegendText = $"final: {f.Mean:F1} +- {spread:F1} over {f.Episodes} episodes";
            drawn = true;
            evaluationPoints.AddRange([(f.Step, f.Mean - spread), (f.Step, f.Mean + spread)]);
        }
        if (drawn)
            ReferencesBesideData(evaluation, references);
        else
            Figure.NoData(evaluation, "evaluation");

        // One step axis for both panels, so a point in one lines up with the same step in the other.
        if (trainingPoints.Count + evaluationPoints.Count > 0)
        {
            var right = trainingPoints.Concat(evaluationPoints).Max(p => p.X) * 1.02;
            training.Axes.SetLimitsX(0, right);
            evaluation.Axes.SetLimitsX(0, right);
        }
        foreach (var (panel, points) in new[] { (training, trainingPoints), (evaluation, evaluationPoints) })
        {
            if (!panel.GetPlottables().Any(p => p.LegendItems.Any(i => !string.IsNullOrEmpty(i.LabelText))))
                continue;
            panel.ShowLegend(LegendCorner(panel, points));
            // Its grey drop shadow, and its border smoothed across two pixel rows, would read as more reference lines.
            panel.Legend.ShadowColor = Colors.Transparent;
            panel.Legend.OutlineStyle.AntiAlias = false;
        }
        return Figure.Save(grid, path, Figure.Width, 1200);
    }

    /// <summary>
    /// The fixed policies' lines on a panel whose vertical range stays the data's: a 50k-step run spans a few dozen
    /// points of return, and stretching its axis to reach greedy's 1567 would flatten it. A reference outside the
    /// range keeps its legend entry, which says where it lies.
    /// </summary>
    private static void ReferencesBesideData(Plot panel, IReadOnlyList<Phase1References.Reference> references)
    {
        panel.Axes.AutoScale();
        var limits = panel.Axes.GetLimits();
        Figure.ReferenceLines(panel, references);
        foreach (var line in panel.GetPlottables().OfType<ScottPlot.Plottables.HorizontalLine>())
        {
            if (line.Position > limits.Top)
                line.LegendText += ", above this panel";
            else if (line.Position < limits.Bottom)
                line.LegendText += ", below this panel";
        }
        panel.Axes.SetLimitsY(limits.Bottom, limits.Top);
    }

    /// <summary>
    /// Where the legend hides the least of a panel's points: a learning curve leaves the upper left empty when it
    /// rises late and the lower right when it rises early, so of those two the one with fewer points under it
    /// (the lower right on a tie).
    /// </summary>
    private static Alignment LegendCorner(Plot panel, IReadOnlyList<(double X, double Y)> points)
    {
        var limits = panel.Axes.GetLimits();
        int Under(bool upperLeft) => points.Count(p =>
        {
            var u = (p.X - limits.Left) / limits.HorizontalSpan;
            var v = (p.Y - limits.Bottom) / limits.VerticalSpan;
            return upperLeft ? u < 0.55 && v > 0.6 : u > 0.45 && v < 0.4;
        });
        return Under(upperLeft: true) < Under(upperLeft: false) ? Alignment.UpperLeft : Alignment.LowerRight;
    }

    /// <summary>The final evaluation's colour: apart from the periodic curve's, and not a reference grey.</summary>
    private static readonly Color FinalColor = Figure.Palette[3];

    /// <summary>
    /// The evaluation panel's title, saying when the points fall inside rollouts (runs made before evaluation moved to
    /// update ends): the policy only changes at an update, so consecutive points of one rollout repeat one policy.
    /// </summary>
    internal static string EvaluationTitle(RunTable? metrics, RunTable? eval)
    {
        const string title = "Deterministic evaluation (mean action), on the same episodes each time";
        if (metrics is null || eval is null)
            return title;
        var updates = metrics.Steps().Where(double.IsFinite).ToHashSet();
        var midRollout = eval.Steps().Where(double.IsFinite).Count(s => !updates.Contains(s));
        return midRollout == 0 ? title + ", after policy updates" : title + "; points inside one rollout repeat its policy (stairs)";
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
