using System.Text.Json.Serialization;

namespace RLWorkbench.Tracking.Mlflow;

/// <summary>One metric value as MLflow's REST API takes it: timestamp in Unix milliseconds.</summary>
public sealed record MlflowMetric(string Key, double Value, long Timestamp, long Step);

public sealed record MlflowParam(string Key, string Value);

public sealed record MlflowTag(string Key, string Value);

/// <summary>The run MLflow created: where to log and where its artifacts go.</summary>
public sealed record MlflowRun(
    [property: JsonPropertyName("run_id")] string RunId,
    [property: JsonPropertyName("experiment_id")] string ExperimentId,
    [property: JsonPropertyName("artifact_uri")] string? ArtifactUri);

/// <summary>MLflow's terminal and live run states (RunStatus in the REST API).</summary>
public static class MlflowRunStatus
{
    public const string Running = "RUNNING";
    public const string Finished = "FINISHED";
    public const string Failed = "FAILED";
    public const string Killed = "KILLED";

    public static string From(RunStatus status) => status switch
    {
        RunStatus.Running => Running,
        RunStatus.Finished => Finished,
        RunStatus.Failed => Failed,
        RunStatus.Killed => Killed,
        _ => Failed,
    };
}

/// <summary>
/// MLflow's per-request limits for runs/log-batch (MAX_METRICS_PER_BATCH and friends in the tracking
/// server); a server answers INVALID_PARAMETER_VALUE to a request over any of them.
/// </summary>
public sealed record LogBatchLimits(int Metrics = 1000, int Params = 100, int Tags = 100, int Total = 1000)
{
    public static LogBatchLimits Mlflow { get; } = new();
}

/// <summary>One runs/log-batch request's worth of data.</summary>
public sealed record LogBatch(IReadOnlyList<MlflowMetric> Metrics, IReadOnlyList<MlflowParam> Params, IReadOnlyList<MlflowTag> Tags)
{
    public int Count => Metrics.Count + Params.Count + Tags.Count;

    /// <summary>
    /// Splits any amount of data into requests within the limits, keeping each kind in order: params and
    /// tags go first, so a run's configuration reaches the server before its curves.
    /// </summary>
    public static IEnumerable<LogBatch> Split(IReadOnlyList<MlflowMetric> metrics, IReadOnlyList<MlflowParam> parameters, IReadOnlyList<MlflowTag> tags, LogBatchLimits limits)
    {
        int m = 0, p = 0, t = 0;
        while (m < metrics.Count || p < parameters.Count || t < tags.Count)
        {
            var pCount = Math.Min(Math.Min(limits.Params, limits.Total), parameters.Count - p);
            var tCount = Math.Min(Math.Min(limits.Tags, limits.Total - pCount), tags.Count - t);
            var mCount = Math.Min(Math.Min(limits.Metrics, limits.Total - pCount - tCount), metrics.Count - m);
            yield return new LogBatch(
                metrics.Skip(m).Take(mCount).ToList(),
                parameters.Skip(p).Take(pCount).ToList(),
                tags.Skip(t).Take(tCount).ToList());
            m += mCount;
            p += pCount;
            t += tCount;
        }
    }
}
