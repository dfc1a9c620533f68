using System.Globalization;
using System.Text;
using RLWorkbench.Tracking.Statistics;

namespace RLWorkbench.Experiments.Sweeps;

/// <summary>report.md and report.csv of a <see cref="SweepSummary"/>: the same numbers, for a reader and for a program.</summary>
internal static class SweepReportText
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Markdown(SweepSummary summary, string? figurePath, IReadOnlyList<string> figureNotes)
    {
        var m = summary.Manifest;
        var trials = summary.Trials.ToList();
        var finished = trials.Count(t => t.Finished);
        var failed = summary.Configurations.Sum(c => c.Failed);
        var unit = summary.WorkUnit ?? "work";
        var text = new StringBuilder();
        text.AppendLine($"# Sweep report: {m.Name}");
        text.AppendLine();
        text.AppendLine($"{m.Experiment} sweep{(m.SpecPath is null ? "" : $" from `{m.SpecPath}`")}, created {m.CreatedUtc.UtcDateTime:yyyy-MM-dd HH:mm} UTC: "
            + $"{Count(m.Configurations.Count, "configuration")} x {Count(m.Seeds.Count, "seed")} ({Seeds(m.Seeds)}) = {Count(m.Trials.Count, "trial")}; "
            + $"{finished} finished, {failed} failed, {trials.Count - finished - failed} not finished.");
        if (summary.ScoreName is not null)
            text.AppendLine($"Final score: {summary.ScoreName}.");
        text.AppendLine();

        text.AppendLine("## Configurations, best mean final score first");
        text.AppendLine();
        text.AppendLine("Each number is the mean over the configuration's finished seeds with its 95% Student-t interval [lower, upper]; "
            + "\"(n=1)\" has no interval; \"(n=k)\" marks a number over fewer seeds than finished.");
        text.AppendLine();
        var header = new List<string> { "rank", "configuration", "finished / failed / not finished", "final", "best", "AUC (curve mean)", $"{unit}/s" };
        header.AddRange(summary.Milestones.Select(s => $"eval at {s:N0} {unit}{Episodes(summary, s)}"));
        if (summary.HasApproxKl)
            header.AddRange(["max approx_kl", $"runaways (approx_kl > {SweepSummary.RunawayApproxKl.ToString(Invariant)})"]);
        Row(text, header);
        Row(text, header.Select((_, i) => i == 0 ? "---:" : i == 2 ? ":---:" : "---"));
        foreach (var c in summary.Configurations)
        {
            var cells = new List<string>
            {
                c.Rank?.ToString(Invariant) ?? "-",
                $"`{c.Configuration.Key}` {Escape(c.Configuration.Label)}",
                $"{c.Finished} / {c.Failed} / {c.NotFinished}",
                Interval(c.Final, c.Finished),
                Interval(c.Best, c.Finished),
                Interval(c.AreaUnderCurve, c.Finished),
                Interval(c.WorkPerSecond, c.Finished),
            };
            cells.AddRange(c.Milestones.Select(e => Interval(e, c.Finished)));
            if (summary.HasApproxKl)
                cells.AddRange([Number(c.MaxApproxKl), c.KlTrials == 0 ? "-" : $"{c.Runaways} of {c.KlTrials}"]);
            Row(text, cells);
        }
        text.AppendLine();

        if (summary.ReferenceSteps is { Count: > 0 } referenceSteps && summary.Configurations.Any(c => c.TrainingReturns?.Any(e => e.Count > 0) == true))
        {
            text.AppendLine("## Training return against SB3's seed-configuration curve");
            text.AppendLine();
            text.AppendLine("ep_rew_mean (the mean return of the last 100 training episodes) at the first rollout end at or after each step of the SB3 2.4.1 "
                + "table in shared/spec/ppo.md (seed 0; the spec rounds these steps to 33k ... 492k), mean [95% interval] over the finished seeds.");
            text.AppendLine();
            var referenceHeader = new List<string> { "configuration" };
            referenceHeader.AddRange(referenceSteps.Select(s => s.ToString("N0", Invariant)));
            Row(text, referenceHeader);
            Row(text, referenceHeader.Select(_ => "---"));
            Row(text, new[] { "SB3 2.4.1, seed 0" }.Concat(RLWorkbench.Tracking.Plots.Phase1References.Sb3SeedCurve.Select(p => p.EpisodeRewardMean.ToString("0", Invariant))));
            foreach (var c in summary.Configurations.Where(c => c.TrainingReturns?.Any(e => e.Count > 0) == true))
                Row(text, new[] { $"`{c.Configuration.Key}` {Escape(c.Configuration.Label)}" }.Concat(c.TrainingReturns!.Select(e => Interval(e, c.Finished))));
            text.AppendLine();
        }

        text.AppendLine("## Trials");
        text.AppendLine();
        var trialHeader = new List<string> { "trial", "configuration", "seed", "state", "final", "best", "AUC (curve mean)", $"{unit}/s" };
        trialHeader.AddRange(summary.Milestones.Select(s => $"eval at {s:N0}"));
        if (summary.HasApproxKl)
            trialHeader.Add("max approx_kl");
        trialHeader.Add("note");
        Row(text, trialHeader);
        Row(text, trialHeader.Select(_ => "---"));
        foreach (var c in summary.Configurations)
        {
            foreach (var t in c.Trials)
            {
                var cells = new List<string>
                {
                    t.Trial.Id,
                    $"`{t.Trial.ConfigurationKey}`",
                    t.Trial.Seed.ToString(Invariant),
                    State(t),
                    Number(t.Scores?.Final),
                    Number(t.Scores?.Best),
                    Number(t.AreaUnderCurve),
                    Number(t.Scores?.WorkPerSecond),
                };
                cells.AddRange(summary.Milestones.Select(s => t.Milestones.FirstOrDefault(e => e.Milestone == s) is { } e ? $"{Number(e.MeanReward)} (at {e.Step:N0})" : "-"));
                if (summary.HasApproxKl)
                    cells.Add(Number(t.MaxApproxKl) + (t.MaxApproxKl > SweepSummary.RunawayApproxKl ? " (runaway)" : ""));
                cells.Add(t.Finished ? "" : Escape(Shorten(t.Message ?? "")));
                Row(text, cells);
            }
        }
        text.AppendLine();

        text.AppendLine("## How to read this");
        text.AppendLine();
        text.AppendLine("- **Which seeds count.** Means and intervals are over finished trials only (finished, with a final score). "
            + "A failed or unfinished trial is censored: it is counted in \"failed\" or \"not finished\" and listed under Trials with its state, never dropped silently.");
        text.AppendLine("- **Interval.** mean +- t(0.975, n-1) x s / sqrt(n), with s the sample standard deviation over the n finished seeds: "
            + "the 95% Student-t interval of the mean. With a handful of seeds a bootstrap interval is too narrow, and this one is exact when seed results are roughly normal (docs/sweeps-report.md).");
        text.AppendLine($"- **final** and **best**: each trial's scores.json: {summary.ScoreName ?? "the final score"}, and the best periodic score seen during the run.");
        if (summary.Curve is { } curve)
        {
            text.AppendLine($"- **AUC (curve mean)**: the area under the trial's learning curve ({curve.Y} against {curve.X} in {curve.Table}.csv, trapezoid rule between its points) "
                + "divided by the width of its x range: the curve's average height, in the score's units.");
        }
        text.AppendLine($"- **{unit}/s**: the trial's own throughput over its whole run (scores.json WorkPerSecond).");
        if (summary.Milestones.Count > 0)
        {
            text.AppendLine("- **eval at N**: the deterministic evaluation eval_milestones.csv holds for the first step at or after N "
                + "(its step is in the Trials table); the final evaluation is the final column.");
        }
        if (summary.HasApproxKl)
        {
            text.AppendLine($"- **approx_kl**: the largest value in metrics.csv over every trial that logged it, finished or not. A trial ran away when it exceeded {SweepSummary.RunawayApproxKl.ToString(Invariant)} "
                + "(healthy runs stay below 0.07; a runaway passes 1 on its way to 50-4000).");
        }
        text.AppendLine("- **Ranking**: by mean final score over finished seeds, highest first; equal means share a rank; configurations without a finished seed are not ranked and come last. "
            + "Overlapping intervals mean the order between those configurations is not settled by these seeds.");
        if (figurePath is not null)
        {
            text.AppendLine($"- **Figure** ({Path.GetFileName(figurePath)}): per configuration the mean curve over its finished seeds and the 95% t interval band; each seed's curve is "
                + "interpolated linearly onto the first seed's x values within the range every seed reached"
                + (summary.Trials.Any(t => t.Curve.Y.Length > SweepReport.SmoothAbovePoints) ? $"; curves of more than {SweepReport.SmoothAbovePoints} points are drawn as a trailing moving average" : "")
                + (SweepReport.References(m).Count > 0 ? ". Dashed grey lines are fixed policies on the Phase 1 environment." : ".")
                + (figureNotes.Count > 0 ? $" Not drawn: {string.Join(" ", figureNotes)}" : ""));
            text.AppendLine();
            text.AppendLine($"![learning curves]({Path.GetFileName(figurePath)})");
        }
        else
        {
            text.AppendLine("- **Figure**: none; no finished trial has a learning curve yet.");
        }

        if (summary.Problems.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("## Problems");
            text.AppendLine();
            foreach (var p in summary.Problems)
                text.AppendLine($"- {p}");
        }
        return text.ToString();
    }

    public static string Csv(SweepSummary summary)
    {
        var settings = summary.Manifest.SettingPaths;
        var header = new List<string> { "rank", "key", "label" };
        header.AddRange(settings);
        header.AddRange(["trials", "finished", "failed", "not_finished"]);
        var referenceSteps = summary.ReferenceSteps ?? [];
        foreach (var name in new[] { "final", "best", "auc", "work_per_second" }.Concat(summary.Milestones.Select(s => $"eval_at_{s}")).Concat(referenceSteps.Select(s => $"ep_rew_mean_at_{s}")))
            header.AddRange([$"{name}_mean", $"{name}_lower95", $"{name}_upper95", $"{name}_n"]);
        if (summary.HasApproxKl)
            header.AddRange(["max_approx_kl", "runaways", "kl_trials"]);
        var text = new StringBuilder();
        text.Append(string.Join(',', header.Select(CsvCell))).Append('\n');
        foreach (var c in summary.Configurations)
        {
            var cells = new List<string> { c.Rank?.ToString(Invariant) ?? "", c.Configuration.Key, c.Configuration.Label };
            cells.AddRange(settings.Select(p => c.Configuration.Settings.TryGetValue(p, out var v) ? SweepSpec.Show(v) : ""));
            cells.AddRange([c.Trials.Count.ToString(Invariant), c.Finished.ToString(Invariant), c.Failed.ToString(Invariant), c.NotFinished.ToString(Invariant)]);
            foreach (var e in new[] { c.Final, c.Best, c.AreaUnderCurve, c.WorkPerSecond }.Concat(c.Milestones).Concat(c.TrainingReturns ?? []))
                cells.AddRange([Exact(e.Mean), Exact(e.Lower), Exact(e.Upper), e.Count.ToString(Invariant)]);
            if (summary.HasApproxKl)
                cells.AddRange([Exact(c.MaxApproxKl), c.Runaways.ToString(Invariant), c.KlTrials.ToString(Invariant)]);
            text.Append(string.Join(',', cells.Select(CsvCell))).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>"1432.1 [1401.2, 1463.0]"; "(n=1)" without an interval; "(n=k)" when fewer seeds than finished gave a value.</summary>
    internal static string Interval(Estimate e, int finished)
    {
        if (e.Count == 0)
            return "-";
        var text = e.HasInterval ? $"{Number(e.Mean)} [{Number(e.Lower)}, {Number(e.Upper)}]" : Number(e.Mean);
        if (e.Count == 1 || e.Count != finished)
            text += $" (n={e.Count})";
        return text;
    }

    /// <summary>Four significant digits and at least one decimal: 1432.1, 12.35, 0.5123, 0.03120.</summary>
    internal static string Number(double? value)
    {
        if (value is not { } v || !double.IsFinite(v))
            return value is { } inf && double.IsInfinity(inf) ? (inf > 0 ? "inf" : "-inf") : "-";
        var decimals = v == 0 ? 1 : Math.Clamp(3 - (int)Math.Floor(Math.Log10(Math.Abs(v))), 1, 8);
        return v.ToString("F" + decimals.ToString(Invariant), Invariant);
    }

    private static string Exact(double? value) => value is { } v && !double.IsNaN(v) ? v.ToString("R", Invariant) : "";

    private static string CsvCell(string cell) =>
        cell.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : cell;

    private static string Episodes(SweepSummary summary, long milestone)
    {
        var counts = summary.Trials.SelectMany(t => t.Milestones).Where(e => e.Milestone == milestone && double.IsFinite(e.Episodes)).Select(e => e.Episodes).Distinct().ToList();
        return counts.Count == 1 ? $" ({counts[0].ToString(Invariant)} episodes)" : "";
    }

    private static string State(ReportedTrial t) => t.State switch
    {
        TrialState.Finished when !t.Finished => "finished, no final score",
        TrialState.Finished => "finished",
        TrialState.Failed => "failed",
        TrialState.Killed => "stopped",
        TrialState.Running => "running (or its worker died)",
        _ => "not started",
    };

    private static string Seeds(IReadOnlyList<long> seeds)
    {
        var sorted = seeds.Order().ToList();
        var consecutive = sorted.Count > 2 && sorted.Zip(sorted.Skip(1)).All(p => p.Second == p.First + 1);
        return consecutive ? $"{sorted[0]}-{sorted[^1]}" : string.Join(", ", sorted);
    }

    private static string Count(int n, string noun) => $"{n} {noun}{(n == 1 ? "" : "s")}";

    private static string Shorten(string text)
    {
        var line = text.Split('\n')[0].Trim();
        return line.Length <= 160 ? line : line[..157] + "...";
    }

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    private static void Row(StringBuilder text, IEnumerable<string> cells) => text.Append("| ").Append(string.Join(" | ", cells)).AppendLine(" |");
}
