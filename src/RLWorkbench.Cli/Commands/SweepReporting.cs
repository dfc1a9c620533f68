using RLWorkbench.Experiments.Sweeps;

namespace RLWorkbench.Cli.Commands;

/// <summary>
/// The report of a sweep, written and printed by `sweep report &lt;dir&gt;` and when a sweep ends: per
/// configuration means with 95% intervals over seeds, every trial, and a learning-curve figure
/// (report.md, report.csv, learning_curves.png; docs/sweeps-report.md).
/// </summary>
internal static class SweepReporting
{
    public static SweepReportResult Write(string sweepDirectory, TextWriter output)
    {
        var report = SweepReport.Write(sweepDirectory);
        output.Write(report.Markdown);
        output.WriteLine();
        output.WriteLine($"Report: {report.MarkdownPath}, {report.CsvPath}{(report.FigurePath is { } figure ? $", {figure}" : "")}");
        return report;
    }
}
