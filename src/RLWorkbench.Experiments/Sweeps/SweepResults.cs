using System.Globalization;
using System.Text;
using System.Text.Json;
using RLWorkbench.Tracking.Statistics;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Sweeps;

/// <summary>One trial as its run directory has it now.</summary>
/// <param name="Scores">scores.json, null when the run has not written one (never started, or died first).</param>
/// <param name="Message">status.json's message: why it failed or stopped.</param>
public sealed record TrialResult(SweepTrial Trial, string Label, TrialState State, RunScores? Scores, string? Message)
{
    /// <summary>The final score of a finished trial; null otherwise (a run that did not finish is censored, not scored).</summary>
    public double? Final => State == TrialState.Finished ? Scores?.Final : null;
}

/// <summary>Reads every trial of a sweep back from its directory, and the over-seeds summary `--seeds` prints.</summary>
public static class SweepResults
{
    public static IReadOnlyList<TrialResult> Read(SweepManifest manifest, string sweepDirectory) => manifest.Trials.Select(trial =>
    {
        var directory = SweepLayout.TrialDirectory(sweepDirectory, trial);
        var state = TrialRecords.StateOf(directory);
        var message = state == TrialState.NotStarted ? null : RunReader.ReadInfo(directory).Message;
        var label = manifest.LabelOf(trial) ?? trial.ConfigurationKey;
        return new TrialResult(trial, label, state, ReadScores(directory), message);
    }).ToList();

    /// <summary>A run's scores.json, or null when it has none or it cannot be read (<paramref name="unreadable"/> hears why).</summary>
    public static RunScores? ReadScores(string runDirectory, Action<string>? unreadable = null)
    {
        var path = Path.Combine(runDirectory, RunScores.FileName);
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<RunScores>(File.ReadAllText(path), SweepManifest.Json) : null;
        }
        catch (JsonException e)
        {
            unreadable?.Invoke(e.Message);
            return null;
        }
    }

    /// <summary>
    /// Per seed, the final score; then the mean and a two-sided 95% Student-t interval over the seeds that
    /// finished, and how many did not (they are censored: named, never averaged in as zeros).
    /// </summary>
    public static string SeedSummary(IReadOnlyList<TrialResult> results)
    {
        var text = new StringBuilder();
        text.Append(Table(["seed", "state", "final"], results.Select(r => new[]
        {
            r.Trial.Seed.ToString(CultureInfo.InvariantCulture), StateName(r.State),
            r.Final is { } f ? Number(f) : "-",
        }).ToList()));
        text.Append(ScoreNote(results));
        var finals = results.Where(r => r.Final is not null).Select(r => r.Final!.Value).ToList();
        var missing = results.Count - finals.Count;
        var estimate = Estimate.Of(finals);
        text.Append(finals.Count switch
        {
            0 => "No seed finished, so there is no mean.",
            1 => $"Mean {Number(estimate.Mean)} over 1 finished seed (no interval from one seed).",
            _ => $"Mean {Number(estimate.Mean)}, 95% interval [{Number(estimate.Lower)}, {Number(estimate.Upper)}] (Student-t over {finals.Count} finished seeds).",
        });
        text.Append(missing == 0 ? " Every seed finished." : $" {missing} seed(s) did not finish and are left out of the mean.");
        text.AppendLine();
        return text.ToString();
    }

    /// <summary>Four significant digits: returns in the hundreds and rewards below 1 both read well.</summary>
    private static string Number(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static string ScoreNote(IReadOnlyList<TrialResult> results) =>
        results.Select(r => r.Scores?.ScoreName).FirstOrDefault(n => n is not null) is { } name ? $"final: {name}.{Environment.NewLine}" : "";

    private static string StateName(TrialState state) => state switch
    {
        TrialState.NotStarted => "not started",
        TrialState.Killed => "stopped",
        TrialState.Running => "running",
        _ => state.ToString().ToLowerInvariant(),
    };

    private static string Table(string[] header, List<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows.Prepend(header))
            text.AppendLine(string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
        return text.ToString();
    }
}
