using System.Text.Json;
using System.Text.Json.Nodes;
using RLWorkbench.Tracking;
using RLWorkbench.Tracking.Plots;

namespace RLWorkbench.Experiments.Sweeps;

/// <summary>Where `rlw sweep report` wrote its files, and the Markdown it wrote (for printing).</summary>
/// <param name="FigurePath">Null when no finished trial had a curve to draw (a stale figure is removed).</param>
public sealed record SweepReportResult(string MarkdownPath, string CsvPath, string? FigurePath, string Markdown);

/// <summary>
/// The report over seeds of a sweep directory (docs/sweeps-report.md): per configuration the trials finished,
/// failed and not finished, means with 95% Student-t intervals over the finished seeds, a ranking, and a
/// learning-curve figure. Written by `rlw sweep report &lt;dir&gt;` and when a sweep ends; it reads only files,
/// so it works on a sweep that is still running or was stopped.
/// </summary>
public static class SweepReport
{
    public static SweepReportResult Write(string sweepDirectory)
    {
        var summary = SweepSummary.Read(sweepDirectory, LoadManifest(sweepDirectory));
        var figurePath = Path.Combine(sweepDirectory, SweepLayout.ReportFigure);
        var (figure, figureNotes) = DrawFigure(summary, figurePath);
        if (figure is null)
            File.Delete(figurePath);
        var markdown = SweepReportText.Markdown(summary, figure, figureNotes);
        var csvPath = Path.Combine(sweepDirectory, SweepLayout.ReportCsv);
        AtomicFile.WriteAllText(csvPath, SweepReportText.Csv(summary));
        var markdownPath = Path.Combine(sweepDirectory, SweepLayout.ReportMarkdown);
        AtomicFile.WriteAllText(markdownPath, markdown);
        return new SweepReportResult(Path.GetFullPath(markdownPath), Path.GetFullPath(csvPath), figure is null ? null : Path.GetFullPath(figurePath), markdown);
    }

    /// <summary>sweep.json of a directory; a directory that is not a sweep is an <see cref="ExperimentConfigException"/> (exit 2).</summary>
    public static SweepManifest LoadManifest(string sweepDirectory)
    {
        if (!Directory.Exists(sweepDirectory))
            throw new ExperimentConfigException($"there is no directory '{sweepDirectory}'; give a sweep directory (one holding {SweepManifest.FileName}).");
        try
        {
            var manifest = SweepManifest.Load(sweepDirectory);
            if (manifest.Configurations is null || manifest.Trials is null)
                throw new ExperimentConfigException($"{Path.Combine(sweepDirectory, SweepManifest.FileName)} lists no configurations or trials; it is not a sweep this workbench wrote.");
            return manifest;
        }
        catch (JsonException e)
        {
            throw new ExperimentConfigException($"{Path.Combine(sweepDirectory, SweepManifest.FileName)} cannot be read as a sweep ({e.Message.Split('\n')[0]}).");
        }
    }

    /// <summary>Curves with more points than this (per-iteration rewards) are drawn smoothed, as `plot --compare` draws them.</summary>
    public const int SmoothAbovePoints = 200;

    private static (string? Path, IReadOnlyList<string> Notes) DrawFigure(SweepSummary summary, string path)
    {
        if (summary.Curve is not { } curve || !summary.Trials.Any(t => t.Finished && t.Curve.X.Length > 0))
            return (null, []);
        var groups = summary.Configurations
            .OrderBy(c => c.Configuration.Key, StringComparer.Ordinal)
            .Select(c => new SeedCurves(
                $"{c.Configuration.Key} {c.Configuration.Label}",
                c.Trials.Where(t => t.Finished && t.Curve.X.Length > 0).Select(t => Smoothed(t.Curve)).ToList(),
                c.Trials.Count(t => !t.Finished)))
            .ToList();
        var xLabel = summary.WorkUnit switch
        {
            "steps" => "environment steps",
            "calls" => "LLM calls",
            { } unit => unit,
            null => curve.X,
        };
        var drawn = SeedCurvesPlot.Draw(
            groups,
            References(summary.Manifest),
            $"{summary.Manifest.Name}: mean over finished seeds with 95% t interval",
            xLabel,
            $"{curve.Y} in {curve.Table}.csv" + (summary.Trials.Any(t => t.Curve.Y.Length > SmoothAbovePoints) ? " (trailing moving average)" : ""),
            path);
        return (path, drawn.Notes);
    }

    private static (double[] X, double[] Y) Smoothed((double[] X, double[] Y) curve) =>
        curve.Y.Length > SmoothAbovePoints
            ? (curve.X, SeriesMath.MovingAverage(curve.Y, SeriesMath.DefaultWindow(curve.Y.Length)))
            : curve;

    /// <summary>
    /// Fixed-policy returns apply only to ppo on the Phase 1 base variant with its 4 agents, in every trial: all
    /// of them with the seed67 layout; random and all-ones only with notebook94, which hides the task type the
    /// greedy rules route by; none for another environment.
    /// </summary>
    public static IReadOnlyList<Phase1References.Reference> References(SweepManifest manifest)
    {
        if (!string.Equals(manifest.Experiment, "ppo", StringComparison.OrdinalIgnoreCase) || manifest.Trials.Count == 0)
            return [];
        IReadOnlyList<Phase1References.Reference> For(JsonObject configuration)
        {
            var environment = configuration["environment"] as JsonObject;
            string? Text(string name) => environment?[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
            if (!string.Equals(Text("variant"), "base", StringComparison.OrdinalIgnoreCase) || (ReportedTrial.NumberOf(environment?["agents"]) ?? 4) != 4)
                return [];
            return Text("layout")?.ToLowerInvariant() switch
            {
                null or "seed67" => Phase1References.All,
                "notebook94" => [Phase1References.Random, Phase1References.AllOnes],
                _ => [],
            };
        }
        return manifest.Trials.Select(t => For(t.Configuration)).Aggregate((shared, these) => [.. shared.Where(these.Contains)]);
    }
}
