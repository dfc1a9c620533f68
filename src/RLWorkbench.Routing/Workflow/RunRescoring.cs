using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Workflow;

/// <summary>The mean scalarised reward of a group of a run's tasks (one chain, one task type).</summary>
public sealed record RescoredGroup(string Name, int Tasks, double MeanReward);

/// <summary>
/// A finished (or stopped) run's tasks scored again under other weights, from the reward vectors its iterations.csv
/// recorded: no call is made. <see cref="RecordedMeanReward"/> is the mean of what the run itself learned from.
/// </summary>
public sealed record Rescoring(
    RewardWeights Weights,
    int Tasks,
    double MeanReward,
    double RecordedMeanReward,
    IReadOnlyList<RescoredGroup> ByChain,
    IReadOnlyList<RescoredGroup> ByTaskType);

public static class RunRescoring
{
    /// <summary>Reads a run directory's iterations.csv; a directory without one, or without rows, is one sentence.</summary>
    public static Rescoring Read(string runDirectory, RewardWeights weights)
    {
        var path = Path.Combine(runDirectory, "iterations.csv");
        if (!File.Exists(path))
            throw new RoutingInputException($"{runDirectory} has no iterations.csv; only qlearn runs record a reward vector per task.");
        return Of(IterationRow.ReadCsv(path).ToList(), weights, path);
    }

    public static Rescoring Of(IReadOnlyList<IterationRow> rows, RewardWeights weights, string source)
    {
        if (rows.Count == 0)
            throw new RoutingInputException($"{source} has no iterations to rescore.");
        // A run from before the fairness column: its fairness was never measured, so it cannot be weighed (not read as 0).
        if (weights.Fairness > 0 && rows.Any(r => r.Fairness is null))
            throw new RoutingInputException($"{source} was recorded before the fairness column existed, so fairness cannot be weighed; give fairness=0 or leave it out.");
        var scored = rows.Select(r => (Row: r, Reward: weights.Scalarise(r.Vector ?? new RewardVector(r.Quality, r.CostUsd, r.LatencySeconds, 0)))).ToList();
        static RescoredGroup[] Groups(IEnumerable<(IterationRow Row, double Reward)> items, Func<IterationRow, string> key) =>
            items.GroupBy(i => key(i.Row), StringComparer.Ordinal)
                .Select(g => new RescoredGroup(g.Key, g.Count(), g.Average(i => i.Reward)))
                .OrderByDescending(g => g.MeanReward).ThenBy(g => g.Name, StringComparer.Ordinal)
                .ToArray();
        return new Rescoring(
            weights,
            rows.Count,
            scored.Average(s => s.Reward),
            rows.Average(r => r.AdjustedReward),
            Groups(scored, ChainLabel),
            Groups(scored, r => r.TaskType));
    }

    /// <summary>"researcher/openai>validator/anthropic" from the row's agents and providers in step order.</summary>
    public static string ChainLabel(IterationRow row) =>
        string.Join(RoutingChain.Separator, row.Agent.Split(RoutingChain.Separator).Zip(row.Provider.Split(RoutingChain.Separator), (a, p) => $"{a}/{p}"));
}
