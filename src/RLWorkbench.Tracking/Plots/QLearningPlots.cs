using System.Globalization;
using System.Text.Json.Nodes;
using ScottPlot;

namespace RLWorkbench.Tracking.Plots;

/// <summary>Phase 2 figures from iterations.csv and artifacts/qtable.json.</summary>
public static class QLearningPlots
{
    private const string Iteration = "iteration (routed task)";

    public static void Draw(RunRecord run, string dir, List<string> files, List<string> notes)
    {
        var iterations = run.Table("iterations");
        if (iterations is null)
        {
            notes.Add("no iterations.csv: no dashboard or load-state counts.");
        }
        else
        {
            files.Add(Dashboard(iterations, Path.Combine(dir, "dashboard.png"), run.Id));
            if (iterations.Has("load_state") && iterations.Strings("load_state").Any(s => s.Length > 0))
                files.Add(LoadStateCounts(iterations, Path.Combine(dir, "load_states.png")));
            else
                notes.Add("iterations.csv has no load states (state = task type only): no load-state counts.");
        }
        // A bandit run saves counts and sums (artifacts/bandit.json) instead of a Q-table; its heatmap shows their means.
        // A composed run (artifacts/composed.json) keeps each chain's posterior mean as "values", a Q-table's shape.
        var qtable = run.ReadJson("artifacts/qtable.json") ?? run.ReadJson("artifacts/composed.json");
        var bandit = qtable is null ? run.ReadJson("artifacts/bandit.json") : null;
        if (qtable is null && bandit is null)
        {
            notes.Add("no artifacts/qtable.json: no Q-table heatmaps.");
            return;
        }
        var table = qtable is not null ? QTable.From(qtable) : QTable.FromBandit(bandit!);
        files.AddRange(Heatmaps(run, table, iterations, dir, notes));
    }

    public static string Dashboard(RunTable it, string path, string runId)
    {
        var grid = Figure.Grid(2, 3);
        var x = it.Steps();
        var window = SeriesMath.DefaultWindow(it.RowCount);

        var reward = grid.GetPlot(0);
        Figure.Style(reward, $"Reward - {runId}", Iteration, "reward");
        var drew = false;
        foreach (var (column, label, color) in new[] { ("raw_reward", "raw", Figure.Palette[0]), ("adjusted_reward", "adjusted (after load penalty)", Figure.Palette[1]) })
        {
            if (!it.Has(column))
                continue;
            var (sx, sy) = SeriesMath.Finite(x, it.Numbers(column));
            Figure.Points(reward, sx, sy, label, color);
            drew |= Figure.Line(reward, sx, SeriesMath.MovingAverage(sy, window), $"{label}, moving average ({window})", color);
        }
        if (!drew)
            Figure.NoData(reward, "raw_reward or adjusted_reward");
        Figure.Legend(reward);

        var judge = grid.GetPlot(1);
        Figure.Style(judge, "Judge scores (moving average)", Iteration, "score (judge scale)");
        var scores = new[] { "relevance", "accuracy", "completeness", "agent_match" };
        drew = false;
        for (var i = 0; i < scores.Length; i++)
        {
            if (!it.Has(scores[i]))
                continue;
            var (sx, sy) = SeriesMath.Finite(x, it.Numbers(scores[i]));
            drew |= Figure.Line(judge, sx, SeriesMath.MovingAverage(sy, window), scores[i], Figure.Palette[i]);
        }
        if (!drew)
            Figure.NoData(judge, "judge scores");
        Figure.Legend(judge);

        var share = grid.GetPlot(2);
        Figure.Style(share, "Tasks per agent and provider", "agent / provider", "tasks routed");
        if (it.Has("agent"))
        {
            var providers = it.Has("provider") ? it.Strings("provider") : new string[it.RowCount];
            var counts = it.Strings("agent").Select((a, i) => string.IsNullOrEmpty(providers[i]) ? a : $"{a} / {providers[i]}")
                .GroupBy(k => k, StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => (g.Key, (double)g.Count()))
                .ToList();
            Figure.CategoryBars(share, counts.Select(c => c.Key).ToList(), counts.Select(c => c.Item2).ToList(), Figure.Palette[2], "tasks");
            var fair = it.RowCount / (double)Math.Max(1, counts.Count);
            var line = share.Add.HorizontalLine(fair, 2, Figure.Palette[3], LinePattern.Dashed);
            line.LegendText = $"fair share ({fair.ToString("0.#", CultureInfo.InvariantCulture)})";
        }
        else
        {
            Figure.NoData(share, "agent column");
        }
        Figure.Legend(share);

        var types = grid.GetPlot(3);
        Figure.Style(types, "Mean reward per task type", "task type", "mean reward");
        if (it.Has("task_type") && it.Has("adjusted_reward"))
        {
            var type = it.Strings("task_type");
            var raw = it.Has("raw_reward") ? it.Numbers("raw_reward") : null;
            var adjusted = it.Numbers("adjusted_reward");
            var groups = Enumerable.Range(0, it.RowCount).GroupBy(i => type[i], StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
            var labels = groups.Select(g => g.Key).ToList();
            if (raw is not null)
                Figure.CategoryBars(types, labels, groups.Select(g => Mean(g.Select(i => raw[i]))).ToList(), Figure.Palette[0], "raw", -0.2, 0.4);
            Figure.CategoryBars(types, labels, groups.Select(g => Mean(g.Select(i => adjusted[i]))).ToList(), Figure.Palette[1], "adjusted", raw is null ? 0 : 0.2, raw is null ? 0.8 : 0.4);
        }
        else
        {
            Figure.NoData(types, "task_type or adjusted_reward");
        }
        Figure.Legend(types);

        var util = grid.GetPlot(4);
        Figure.Style(util, "Agent utilisation over time", Iteration, "utilisation (fraction of capacity)");
        drew = false;
        var utilColumns = it.Columns.Where(c => c.StartsWith("util_", StringComparison.Ordinal)).ToList();
        for (var i = 0; i < utilColumns.Count; i++)
            drew |= Figure.Line(util, x, it.Numbers(utilColumns[i]), utilColumns[i]["util_".Length..], Figure.Palette[i % Figure.Palette.Length], 1.5f);
        if (!drew)
            Figure.NoData(util, "util_* columns");
        Figure.Legend(util);

        var penalty = grid.GetPlot(5);
        Figure.Style(penalty, "Load penalty and imbalance over time", Iteration, "penalty (reward units) / imbalance");
        drew = false;
        if (it.Has("penalty"))
            drew |= Figure.Line(penalty, x, it.Numbers("penalty"), "penalty", Figure.Palette[3], 1.5f);
        if (it.Has("imbalance"))
            drew |= Figure.Line(penalty, x, it.Numbers("imbalance"), "imbalance", Figure.Palette[4], 1.5f);
        if (!drew)
            Figure.NoData(penalty, "penalty or imbalance");
        Figure.Legend(penalty);

        return Figure.Save(grid, path, 2100, 1200);
    }

    public static string LoadStateCounts(RunTable it, string path)
    {
        var counts = it.Strings("load_state").Where(s => s.Length > 0)
            .GroupBy(s => s, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .ToList();
        var plot = Figure.New("Visits per load state", "load state", "iterations in this state");
        Figure.CategoryBars(plot, counts.Select(g => g.Key).ToList(), counts.Select(g => (double)g.Count()).ToList(), Figure.Palette[0], "visits");
        Figure.Legend(plot);
        return Figure.Save(plot, path, Math.Max(Figure.Width, 60 * counts.Count), Figure.Height);
    }

    /// <summary>
    /// One heatmap of the learned table, so every cell shares one colour scale. A load-balanced table (states "type|load")
    /// shows the states the run visited (most of its 20 never are); a base table shows its 4 task types once, whatever load
    /// states the run passed through, since its values do not depend on them. A bandit's table holds sample means, not
    /// Q-values, and is labelled so.
    /// </summary>
    private static IEnumerable<string> Heatmaps(RunRecord run, QTable table, RunTable? it, string dir, List<string> notes)
    {
        if (table.States.Count == 0 || table.Actions.Count == 0)
        {
            notes.Add("artifacts/qtable.json has no states or actions: no heatmap.");
            yield break;
        }
        var rows = Enumerable.Range(0, table.States.Count).ToList();
        var loadBalanced = table.States.Any(s => s.Contains('|', StringComparison.Ordinal));
        if (loadBalanced && it is not null && it.Has("state"))
        {
            var visited = it.Strings("state").ToHashSet(StringComparer.Ordinal);
            rows = rows.Where(r => visited.Contains(table.States[r])).ToList();
            if (rows.Count < table.States.Count)
                notes.Add($"qtable.png shows the {rows.Count} of {table.States.Count} states the run visited; the others hold their initial 0.");
            if (rows.Count == 0)
                yield break;
        }
        var columns = Enumerable.Range(0, table.Actions.Count).ToList();
        // A chain run's table has a column per chain (248 up to three steps), most never routed to: drawn whole it is tens of
        // thousands of pixels wide, so it shows the chains the run routed to, as a load-balanced one shows its visited states.
        var chains = table.Actions.Any(a => a.Contains('>', StringComparison.Ordinal));
        if (chains && it is not null && it.Has("action"))
        {
            var routed = it.Strings("action").Select(a => int.TryParse(a, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : -1).ToHashSet();
            columns = columns.Where(routed.Contains).ToList();
            if (columns.Count < table.Actions.Count)
                notes.Add($"qtable.png shows the {columns.Count} of {table.Actions.Count} chains the run routed to; the others are left out (a Q-table or bandit holds its initial 0 there, the composed learner its estimate from shared steps).");
            if (columns.Count == 0)
                yield break;
        }
        var (title, scale) = HeatmapLabels(run.Parameters);
        yield return Heatmap(table, rows, columns, title, scale, Path.Combine(dir, "qtable.png"));
    }

    /// <summary>The heatmap's title and colour-bar label, by what the table holds (runs from before bandits have no algorithm: Q-learning).</summary>
    public static (string Title, string Scale) HeatmapLabels(IReadOnlyDictionary<string, string> parameters)
    {
        var algorithm = parameters.TryGetValue("algorithm", out var a) ? a : "q-learning";
        return algorithm switch
        {
            "ucb1" or "thompson" => ($"Sample mean reward per state and action ({algorithm}; 0 where never tried)", "mean adjusted reward"),
            // The composed learner's value of a chain is the sum of its steps' posterior means, so a chain never routed has one too.
            "composed" => ("Composed value per state and action (sum of its steps' posterior means)", "estimated adjusted reward"),
            _ => ("Q-values per state and action", "Q-value (estimated discounted return)"),
        };
    }

    private static string Heatmap(QTable table, IReadOnlyList<int> rows, IReadOnlyList<int> columns, string title, string scale, string path)
    {
        var values = new double[rows.Count, columns.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            for (var c = 0; c < columns.Count; c++)
                values[r, c] = table.Values[rows[r]][columns[c]];
        }
        var chains = columns.Any(c => table.Actions[c].Contains('>', StringComparison.Ordinal));
        var plot = Figure.New(title, chains ? "action (a chain: agent/provider steps in order)" : "action (agent/provider)", "state");
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        // ScottPlot centres cell [r, a] on (a, rows - 1 - r): the first state is drawn at the top.
        plot.Add.ColorBar(heatmap).Label = scale;
        var finite = values.Cast<double>().Where(double.IsFinite).DefaultIfEmpty(0).ToArray();
        var middle = (finite.Min() + finite.Max()) / 2;
        if (rows.Count * columns.Count <= 160)
        {
            for (var r = 0; r < rows.Count; r++)
            {
                for (var c = 0; c < columns.Count; c++)
                {
                    var text = plot.Add.Text(values[r, c].ToString("0.00", CultureInfo.InvariantCulture), c, rows.Count - 1 - r);
                    text.Alignment = Alignment.MiddleCenter;
                    // Viridis is light at the top of its range: dark text there, light text below.
                    text.LabelFontColor = values[r, c] > middle ? Colors.Black : Colors.White;
                    text.LabelFontSize = 12;
                }
            }
        }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, columns.Count).Select(i => (double)i).ToArray(), columns.Select(c => table.Actions[c]).ToArray());
        plot.Axes.Left.SetTicks(Enumerable.Range(0, rows.Count).Select(r => (double)(rows.Count - 1 - r)).ToArray(), rows.Select(r => table.States[r]).ToArray());
        plot.Axes.SetLimits(-0.5, columns.Count - 0.5, -0.5, rows.Count - 0.5);
        // Chain labels ("researcher/openai>analyst/anthropic>validator/openai") are wider than a column: they read downwards,
        // below the cells rather than in their place.
        var labelSpace = 0;
        var longest = columns.Max(c => table.Actions[c].Length);
        if (longest > 20)
        {
            labelSpace = 30 + 8 * longest;
            plot.Axes.Bottom.TickLabelStyle.Rotation = 90;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
            plot.Axes.Bottom.MinimumSize = labelSpace;
        }
        return Figure.Save(plot, path, Math.Max(900, 140 * columns.Count + 300), Math.Max(500, 45 * rows.Count + 200) + labelSpace);
    }

    private static double Mean(IEnumerable<double> values)
    {
        var finite = values.Where(double.IsFinite).ToList();
        return finite.Count == 0 ? double.NaN : finite.Average();
    }

}

/// <summary>A Q-table as the Q-learning coordinator saves it: values[state][action].</summary>
public sealed record QTable(IReadOnlyList<string> States, IReadOnlyList<string> Actions, IReadOnlyList<double[]> Values)
{
    public static QTable From(JsonNode json)
    {
        try
        {
            var states = json["states"]!.AsArray().Select(s => s!.ToString()).ToList();
            var actions = json["actions"]!.AsArray().Select(a => a!.ToString()).ToList();
            var values = json["values"]!.AsArray().Select(row => row!.AsArray().Select(v => v is null ? double.NaN : v.GetValue<double>()).ToArray()).ToList();
            if (values.Count != states.Count || values.Any(v => v.Length != actions.Count))
                throw new RunFormatException($"qtable.json has {states.Count} states and {actions.Count} actions but its values are not a {states.Count} x {actions.Count} table.");
            return new QTable(states, actions, values);
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new RunFormatException("qtable.json is not shaped { \"states\": [...], \"actions\": [...], \"values\": [[...]] }.", e);
        }
    }

    /// <summary>A bandit table's sample means (sums / counts), 0 where an action was never tried, as the heatmap shows them.</summary>
    public static QTable FromBandit(JsonNode json)
    {
        try
        {
            var states = json["states"]!.AsArray().Select(s => s!.ToString()).ToList();
            var actions = json["actions"]!.AsArray().Select(a => a!.ToString()).ToList();
            var counts = json["counts"]!.AsArray().Select(row => row!.AsArray().Select(v => v!.GetValue<long>()).ToArray()).ToList();
            var sums = json["sums"]!.AsArray().Select(row => row!.AsArray().Select(v => v!.GetValue<double>()).ToArray()).ToList();
            if (counts.Count != states.Count || sums.Count != states.Count || counts.Any(c => c.Length != actions.Count) || sums.Any(c => c.Length != actions.Count))
                throw new RunFormatException($"bandit.json has {states.Count} states and {actions.Count} actions but its counts and sums are not {states.Count} x {actions.Count} tables.");
            return new QTable(states, actions, counts.Select((c, s) => c.Select((n, a) => n == 0 ? 0 : sums[s][a] / n).ToArray()).ToList());
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new RunFormatException("bandit.json is not shaped { \"states\": [...], \"actions\": [...], \"counts\": [[...]], \"sums\": [[...]] }.", e);
        }
    }
}
