namespace RLWorkbench.Tracking.Mlflow;

/// <summary>
/// Sends one local run to MLflow step by step and records each step in <see cref="MlflowSyncState"/>,
/// so the live mirror and `runs sync` share one way of doing it and neither sends a row twice.
/// </summary>
public sealed class MlflowPublisher(MlflowClient client, string runDirectory, MlflowSyncState state)
{
    public MlflowSyncState State => state;

    public MlflowRun? Run => state.GetRun();

    /// <summary>Finds the MLflow run this local run maps to, creating the experiment and run the first time.</summary>
    public async Task<MlflowRun> EnsureRunAsync(RunInfo info, CancellationToken cancellationToken)
    {
        if (state.GetRun() is { } existing)
            return existing;
        var experimentId = await client.GetOrCreateExperimentAsync(client.Options.ExperimentName, cancellationToken);
        var run = await client.CreateRunAsync(experimentId, info.Id, info.StartedUtc, RunTags(info), cancellationToken);
        state.ExperimentId = run.ExperimentId;
        state.RunId = run.RunId;
        state.ArtifactUri = run.ArtifactUri;
        Save();
        return run;
    }

    /// <summary>The tags an MLflow run carries: the local run's own, its kind and its versions.</summary>
    public static List<MlflowTag> RunTags(RunInfo info)
    {
        var tags = new List<MlflowTag> { new("rlw.kind", info.Kind), new("rlw.run_id", info.Id) };
        tags.AddRange(info.Versions.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => new MlflowTag("rlw.version." + v.Key, v.Value)));
        tags.AddRange(info.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => new MlflowTag(t.Key, t.Value)));
        return tags;
    }

    /// <summary>The tag that carries a param's value after a resume changed it: MLflow keeps a param's first value.</summary>
    public const string ChangedParamTagPrefix = "rlw.param_now.";

    /// <summary>
    /// Sends params and tags. A param MLflow already holds is not sent again: with the same value there is nothing
    /// to send, and with another (a resume with a larger --iterations) MLflow would refuse the whole request, so the
    /// new value goes as the tag <see cref="ChangedParamTagPrefix"/>key, which may change.
    /// </summary>
    public async Task SendParamsAndTagsAsync(IReadOnlyDictionary<string, string> parameters, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
    {
        var run = state.GetRun() ?? throw new InvalidOperationException("EnsureRunAsync first.");
        var fresh = new List<MlflowParam>();
        var allTags = tags.Select(t => new MlflowTag(t.Key, t.Value)).ToList();
        foreach (var (key, value) in parameters)
        {
            if (!state.ParamsLogged.TryGetValue(key, out var logged))
                fresh.Add(new MlflowParam(key, value));
            else if (logged != value)
                allTags.Add(new MlflowTag(ChangedParamTagPrefix + key, value));
        }
        if (fresh.Count == 0 && allTags.Count == 0)
            return;
        await client.LogBatchAsync(run.RunId, [], fresh, allTags, cancellationToken);
        foreach (var param in fresh)
            state.ParamsLogged[param.Key] = param.Value;
        Save();
    }

    public void MarkParamsSent()
    {
        state.ParamsSent = true;
        Save();
    }

    /// <summary>
    /// Sends table rows in order, whole rows per request, and moves the table's mark after each request,
    /// so a failure part way leaves exactly the unsent rows for later. Rows already sent are skipped.
    /// </summary>
    public async Task SendRowsAsync(string table, IReadOnlyList<(long Index, IReadOnlyList<MlflowMetric> Metrics)> rows, CancellationToken cancellationToken)
    {
        var run = state.GetRun() ?? throw new InvalidOperationException("EnsureRunAsync first.");
        var sent = state.RowsSent.GetValueOrDefault(table);
        var pending = new List<MlflowMetric>();
        long lastIndex = -1;
        foreach (var (index, metrics) in rows)
        {
            if (index < sent)
                continue;
            if (pending.Count > 0 && pending.Count + metrics.Count > client.Limits.Metrics)
            {
                await SendAndMarkAsync(run, table, pending, lastIndex, cancellationToken);
                pending.Clear();
            }
            // A row wider than a whole request (never in this workbench's tables) is split rather than refused.
            if (metrics.Count > client.Limits.Metrics)
            {
                await client.LogBatchAsync(run.RunId, metrics, [], [], cancellationToken);
                Mark(table, index);
            }
            else
            {
                pending.AddRange(metrics);
            }
            lastIndex = index;
        }
        if (pending.Count > 0 || lastIndex >= 0)
            await SendAndMarkAsync(run, table, pending, lastIndex, cancellationToken);
    }

    private async Task SendAndMarkAsync(MlflowRun run, string table, List<MlflowMetric> metrics, long lastIndex, CancellationToken cancellationToken)
    {
        if (metrics.Count > 0)
            await client.SendBatchAsync(run.RunId, new LogBatch(metrics.ToList(), [], []), cancellationToken);
        Mark(table, lastIndex);
    }

    private void Mark(string table, long index)
    {
        if (index + 1 > state.RowsSent.GetValueOrDefault(table))
            state.RowsSent[table] = index + 1;
        Save();
    }

    public async Task UploadArtifactAsync(string relativePath, CancellationToken cancellationToken)
    {
        var run = state.GetRun() ?? throw new InvalidOperationException("EnsureRunAsync first.");
        if (state.ArtifactsUploaded.Contains(relativePath))
            return;
        var file = Path.Combine(runDirectory, "artifacts", relativePath);
        if (!File.Exists(file))
            return;
        await client.UploadArtifactAsync(run, relativePath, file, cancellationToken);
        state.ArtifactsUploaded.Add(relativePath);
        Save();
    }

    /// <summary>Artifacts in the run directory that have not been uploaded yet.</summary>
    public IReadOnlyList<string> PendingArtifacts()
    {
        var dir = Path.Combine(runDirectory, "artifacts");
        if (!Directory.Exists(dir))
            return [];
        return Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Where(f => !Path.GetFileName(f).Contains(".tmp-", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(dir, f).Replace('\\', '/'))
            .Where(f => !state.ArtifactsUploaded.Contains(f))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    public async Task SendEndAsync(RunInfo info, CancellationToken cancellationToken)
    {
        var run = state.GetRun() ?? throw new InvalidOperationException("EnsureRunAsync first.");
        await client.UpdateRunAsync(run.RunId, MlflowRunStatus.From(info.Status), info.EndedUtc, cancellationToken);
        state.EndSent = info.Status != RunStatus.Running;
        Save();
    }

    public void RecordError(string? message)
    {
        state.LastError = message;
        Save();
    }

    public void MarkComplete()
    {
        state.Complete = true;
        state.LastError = null;
        Save();
    }

    public void Save() => state.Save(runDirectory);

    /// <summary>
    /// A table row as MLflow metrics: every numeric cell but the step, at the row's step/iteration/episode.
    /// Metrics of the main table keep their column names; other tables prefix theirs ("eval/mean_reward").
    /// </summary>
    public static List<MlflowMetric> RowMetrics(string table, IReadOnlyList<string> columns, Func<int, double?> cell, long rowIndex, long timestampMs)
    {
        var stepColumn = -1;
        foreach (var name in RunTable.StepColumns)
        {
            stepColumn = IndexOf(columns, name);
            if (stepColumn >= 0)
                break;
        }
        var step = stepColumn >= 0 && cell(stepColumn) is { } s && double.IsFinite(s) ? (long)s : rowIndex;
        var prefix = table == "metrics" ? "" : table + "/";
        var metrics = new List<MlflowMetric>(columns.Count);
        for (var c = 0; c < columns.Count; c++)
        {
            if (c == stepColumn || cell(c) is not { } value)
                continue;
            metrics.Add(new MlflowMetric(prefix + columns[c], value, timestampMs, step));
        }
        return metrics;
    }

    private static int IndexOf(IReadOnlyList<string> columns, string name)
    {
        for (var i = 0; i < columns.Count; i++)
        {
            if (columns[i] == name)
                return i;
        }
        return -1;
    }
}
