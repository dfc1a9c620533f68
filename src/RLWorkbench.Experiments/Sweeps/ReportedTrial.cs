using System.Text.Json;
using System.Text.Json.Nodes;
using RLWorkbench.Tracking;
using RLWorkbench.Tracking.Plots;

namespace RLWorkbench.Experiments.Sweeps;

/// <summary>A deterministic evaluation at a milestone (a row of eval_milestones.csv).</summary>
/// <param name="Milestone">The configured milestone step.</param>
/// <param name="Step">The step the evaluation ran at: the first at or after the milestone.</param>
public sealed record MilestoneEvaluation(long Milestone, long Step, double Episodes, double MeanReward);

/// <summary>
/// What the report needs of one trial, read from its run directory. Anything unreadable is listed in
/// <see cref="Problems"/> and left out of the numbers rather than stopping the report.
/// </summary>
/// <param name="Message">status.json's message (why a trial failed or stopped), if any.</param>
/// <param name="Scores">scores.json; null when the trial never wrote one.</param>
/// <param name="Curve">The learning curve <see cref="RunScores.Curve"/> names, finite points sorted by x; empty when absent.</param>
/// <param name="AreaUnderCurve">The curve's mean over its own x range (<see cref="ReportedTrial.MeanOverRange"/>); null without points.</param>
/// <param name="MaxApproxKl">The largest approx_kl in metrics.csv; null when the run has no such column or value.</param>
/// <param name="TrainingReturns">ep_rew_mean at the first rollout end at or after each reference step asked for; null where the run has none.</param>
public sealed record ReportedTrial(
    SweepTrial Trial,
    TrialState State,
    string? Message,
    RunScores? Scores,
    (double[] X, double[] Y) Curve,
    double? AreaUnderCurve,
    double? MaxApproxKl,
    IReadOnlyList<MilestoneEvaluation> Milestones,
    IReadOnlyList<string> Problems,
    IReadOnlyList<double?>? TrainingReturns = null)
{
    /// <summary>Finished with a final score: only these enter the means and intervals.</summary>
    public bool Finished => State == TrialState.Finished && Scores?.Final is not null;

    public const string MetricsTable = "metrics";
    public const string ApproxKlColumn = "approx_kl";
    public const string MilestoneTable = "eval_milestones";
    public const string TrainingReturnColumn = "ep_rew_mean";

    public static ReportedTrial Read(string sweepDirectory, SweepTrial trial, IReadOnlyList<long> milestones, IReadOnlyList<long>? referenceSteps = null)
    {
        var directory = SweepLayout.TrialDirectory(sweepDirectory, trial);
        var problems = new List<string>();
        (double[] X, double[] Y) empty = ([], []);
        TrialState state;
        RunRecord record;
        try
        {
            if (!File.Exists(Path.Combine(directory, RunStore.StatusFile)))
                return new ReportedTrial(trial, TrialState.NotStarted, null, null, empty, null, null, [], problems);
            record = RunReader.Read(directory);
            state = TrialRecords.StateOf(record.Info.Status);
        }
        catch (RunFormatException e)
        {
            problems.Add($"{trial.Id}: {e.Message}");
            return new ReportedTrial(trial, TrialState.NotStarted, null, null, empty, null, null, [], problems);
        }

        var scores = SweepResults.ReadScores(directory, message => problems.Add($"{trial.Id}: {RunScores.FileName} cannot be read ({message})."));
        var curve = empty;
        if (scores is not null)
        {
            var table = Table(record, scores.Curve.Table, trial, problems);
            if (table is not null && table.Has(scores.Curve.X) && table.Has(scores.Curve.Y))
                curve = Guard(() => SeriesMath.Finite(table.Numbers(scores.Curve.X), table.Numbers(scores.Curve.Y)), empty, trial, problems);
            else if (table is not null)
                problems.Add($"{trial.Id}: {scores.Curve.Table}.csv has no columns {scores.Curve.X} and {scores.Curve.Y}, which scores.json names as its learning curve.");
        }
        if (state == TrialState.Finished && scores?.Final is null)
            problems.Add($"{trial.Id} is finished but {(scores is null ? "has no readable " + RunScores.FileName : RunScores.FileName + " has no final score")}; it is counted as not finished.");

        double? maxKl = null;
        var trainingReturns = (referenceSteps ?? []).Select(_ => (double?)null).ToArray();
        if (Table(record, MetricsTable, trial, problems) is { } metrics)
        {
            if (metrics.Has(ApproxKlColumn))
            {
                // NaN is an empty cell, not a value; an infinite KL is a runaway like a huge one.
                var values = Guard(() => metrics.Numbers(ApproxKlColumn), [], trial, problems).Where(v => !double.IsNaN(v)).ToArray();
                maxKl = values.Length > 0 ? values.Max() : null;
            }
            if (trainingReturns.Length > 0 && metrics.Has("step") && metrics.Has(TrainingReturnColumn))
            {
                var steps = Guard(() => metrics.Numbers("step"), [], trial, problems);
                var returns = Guard(() => metrics.Numbers(TrainingReturnColumn), [], trial, problems);
                for (var i = 0; i < trainingReturns.Length; i++)
                {
                    // One row per rollout end; the first at or after the reference step is where SB3 logged it too.
                    var row = Array.FindIndex(steps, s => s >= referenceSteps![i]);
                    if (row >= 0 && row < returns.Length && double.IsFinite(returns[row]))
                        trainingReturns[i] = returns[row];
                }
            }
        }

        var reached = new List<MilestoneEvaluation>();
        if (milestones.Count > 0 && Table(record, MilestoneTable, trial, problems) is { } table2 && table2.Has("step") && table2.Has("mean_reward"))
        {
            var steps = Guard(() => table2.Numbers("step"), [], trial, problems);
            var means = Guard(() => table2.Numbers("mean_reward"), [], trial, problems);
            var episodes = table2.Has("episodes") ? Guard(() => table2.Numbers("episodes"), [], trial, problems) : [];
            foreach (var milestone in milestones)
            {
                // Rows are written in step order, one at the first step at or after each milestone, the final evaluation last.
                var row = Array.FindIndex(steps, s => s >= milestone);
                if (row >= 0 && row < means.Length && double.IsFinite(means[row]))
                    reached.Add(new MilestoneEvaluation(milestone, (long)steps[row], row < episodes.Length ? episodes[row] : double.NaN, means[row]));
            }
        }

        foreach (var p in record.Problems)
            problems.Add($"{trial.Id}: {p}");
        return new ReportedTrial(trial, state, record.Info.Message, scores, curve, MeanOverRange(curve.X, curve.Y), maxKl, reached, problems, trainingReturns);
    }

    /// <summary>
    /// The area under a curve divided by the width of its x range (trapezoid rule between its points), so it
    /// reads in the curve's own units: the curve's average height over the run. One point gives its value.
    /// </summary>
    public static double? MeanOverRange(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count == 0)
            return null;
        var width = x[^1] - x[0];
        if (width <= 0)
            return y.Average();
        double area = 0;
        for (var i = 1; i < x.Count; i++)
            area += 0.5 * (y[i] + y[i - 1]) * (x[i] - x[i - 1]);
        return area / width;
    }

    /// <summary>The milestone steps a trial's configuration asks for (ppo's milestoneSteps), or none.</summary>
    public static IReadOnlyList<long> ConfiguredMilestones(JsonObject configuration)
    {
        if (configuration["milestoneSteps"] is not JsonArray array)
            return [];
        return array.Select(NumberOf).OfType<double>().Where(double.IsFinite).Select(s => (long)s).ToList();
    }

    /// <summary>A JSON number as a double, null for anything else; read from its text so a value built in code reads like one loaded from a file.</summary>
    internal static double? NumberOf(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.Number
            ? double.Parse(value.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture)
            : null;

    private static RunTable? Table(RunRecord record, string name, SweepTrial trial, List<string> problems)
    {
        try
        {
            return record.Table(name);
        }
        catch (RunFormatException e)
        {
            problems.Add($"{trial.Id}: {e.Message}");
            return null;
        }
    }

    private static T Guard<T>(Func<T> read, T fallback, SweepTrial trial, List<string> problems)
    {
        try
        {
            return read();
        }
        catch (RunFormatException e)
        {
            problems.Add($"{trial.Id}: {e.Message}");
            return fallback;
        }
    }
}
