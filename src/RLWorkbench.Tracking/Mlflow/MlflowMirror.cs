namespace RLWorkbench.Tracking.Mlflow;

/// <summary>
/// Mirrors every run a store creates to an MLflow server. The local run is the record: the mirror sends
/// from a background task, gives up on a server that is down after its retries with one warning, and
/// leaves what it could not send marked in mlflow.json for `runs sync`.
/// </summary>
public sealed class MlflowMirror : IRunMirror
{
    private readonly MlflowClient client;
    private readonly Action<string> warn;
    private readonly TimeProvider clock;
    private readonly Func<TimeSpan, CancellationToken, Task> delay;

    public MlflowMirror(MlflowClient client, Action<string> warn, TimeProvider? clock = null, Func<TimeSpan, CancellationToken, Task>? delay = null)
    {
        this.client = client;
        this.warn = warn;
        this.clock = clock ?? TimeProvider.System;
        this.delay = delay ?? Task.Delay;
    }

    public MlflowOptions Options => client.Options;

    public IRunSink Start(RunInfo info, string runDirectory) => new MlflowRunSink(client, info, runDirectory, warn, clock, delay);

    /// <summary>
    /// The mirror MLFLOW_TRACKING_URI asks for, or null when it is not set. Settings that cannot work give
    /// one warning and no mirror, so a typo in the environment never stops a run.
    /// </summary>
    public static MlflowMirror? FromEnvironment(Func<string, string?>? variable = null, Action<string>? warn = null)
    {
        variable ??= Environment.GetEnvironmentVariable;
        warn ??= message => Console.Error.WriteLine("warning: " + message);
        try
        {
            return MlflowOptions.FromEnvironment(variable) is { } options ? new MlflowMirror(new MlflowClient(options), warn) : null;
        }
        catch (MlflowConfigurationException e)
        {
            warn($"{e.Message} Runs are kept locally only.");
            return null;
        }
    }
}

/// <summary>One run's mirror: buffers what the run logs and sends it from a background task.</summary>
internal sealed class MlflowRunSink : IRunSink
{
    private readonly object gate = new();
    private readonly MlflowClient client;
    private readonly RunInfo startInfo;
    private readonly string runDirectory;
    private readonly Action<string> warn;
    private readonly TimeProvider clock;
    private readonly Func<TimeSpan, CancellationToken, Task> delay;
    private readonly MlflowPublisher publisher;
    private readonly SemaphoreSlim signal = new(0);
    private readonly TaskCompletionSource finishRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource stop = new();
    private readonly Task worker;

    private Dictionary<string, string> pendingParams = new(StringComparer.Ordinal);
    private Dictionary<string, string> pendingTags = new(StringComparer.Ordinal);
    private Dictionary<string, List<(long Index, IReadOnlyList<MlflowMetric> Metrics)>> pendingRows = new(StringComparer.Ordinal);
    private List<string> pendingArtifacts = [];
    private RunInfo? finishInfo;
    private volatile bool offline;
    private bool warned;

    public MlflowRunSink(MlflowClient client, RunInfo info, string runDirectory, Action<string> warn, TimeProvider clock, Func<TimeSpan, CancellationToken, Task> delay)
    {
        this.client = client;
        startInfo = info;
        this.runDirectory = runDirectory;
        this.warn = warn;
        this.clock = clock;
        this.delay = delay;
        var state = MlflowSyncState.Load(runDirectory, client.Options.DisplayUri);
        // A resumed run continues its MLflow run but is not complete again until this session's data is sent.
        state.Complete = false;
        publisher = new MlflowPublisher(client, runDirectory, state);
        worker = Task.Run(RunAsync);
    }

    public void LogParams(IReadOnlyDictionary<string, string> parameters) => Enqueue(() =>
    {
        foreach (var (key, value) in parameters)
            pendingParams[key] = value;
    });

    public void SetTags(IReadOnlyDictionary<string, string> tags) => Enqueue(() =>
    {
        foreach (var (key, value) in tags)
            pendingTags[key] = value;
    });

    public void LogRow(string table, long rowIndex, IReadOnlyList<string> columns, IReadOnlyList<object?> values)
    {
        if (offline)
            return;
        var metrics = MlflowPublisher.RowMetrics(table, columns, c => RunParameters.ToMetric(values[c]), rowIndex, clock.GetUtcNow().ToUnixTimeMilliseconds());
        Enqueue(() =>
        {
            if (!pendingRows.TryGetValue(table, out var rows))
                pendingRows[table] = rows = [];
            rows.Add((rowIndex, metrics));
        });
    }

    public void LogArtifact(string relativePath) => Enqueue(() => pendingArtifacts.Add(relativePath));

    public void Finish(RunInfo info)
    {
        lock (gate)
            finishInfo = info;
        finishRequested.TrySetResult();
        signal.Release();
        if (!worker.Wait(client.Options.FinishTimeout))
        {
            stop.Cancel();
            worker.Wait(TimeSpan.FromSeconds(5));
        }
        var state = publisher.State;
        if (!state.Complete && !warned)
            warn($"MLflow at {client.Options.DisplayUri}: not everything was sent before the run ended ({state.LastError ?? "unknown reason"}); push the rest with: {RunSync.Command(runDirectory)}");
    }

    private void Enqueue(Action add)
    {
        if (offline)
            return;
        lock (gate)
            add();
        signal.Release();
    }

    private async Task RunAsync()
    {
        var token = stop.Token;
        try
        {
            await publisher.EnsureRunAsync(startInfo, token);
            while (true)
            {
                await signal.WaitAsync(token);
                // Gather what arrives over a flush interval into few requests, unless the run is ending.
                if (!finishRequested.Task.IsCompleted)
                    await Task.WhenAny(delay(client.Options.FlushInterval, token), finishRequested.Task);
                token.ThrowIfCancellationRequested();
                Dictionary<string, string> parameters, tags;
                Dictionary<string, List<(long Index, IReadOnlyList<MlflowMetric> Metrics)>> rows;
                List<string> artifacts;
                RunInfo? ending;
                lock (gate)
                {
                    (parameters, pendingParams) = (pendingParams, new Dictionary<string, string>(StringComparer.Ordinal));
                    (tags, pendingTags) = (pendingTags, new Dictionary<string, string>(StringComparer.Ordinal));
                    (rows, pendingRows) = (pendingRows, new Dictionary<string, List<(long, IReadOnlyList<MlflowMetric>)>>(StringComparer.Ordinal));
                    (artifacts, pendingArtifacts) = (pendingArtifacts, []);
                    ending = finishInfo;
                }
                var paramsOk = await SendParamsAndTagsAsync(parameters, tags, token);
                foreach (var (table, tableRows) in rows)
                    await publisher.SendRowsAsync(table, tableRows, token);
                foreach (var artifact in artifacts)
                    await publisher.UploadArtifactAsync(artifact, token);
                if (ending is not null)
                {
                    foreach (var artifact in publisher.PendingArtifacts())
                        await publisher.UploadArtifactAsync(artifact, token);
                    await publisher.SendEndAsync(ending, token);
                    if (paramsOk && publisher.State.LastError is null)
                        publisher.MarkComplete();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            Stop($"the server did not take everything within {client.Options.FinishTimeout.TotalSeconds:0} s");
        }
        catch (MlflowException e)
        {
            Stop(e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            Stop(e.Message);
        }
    }

    /// <summary>Params that MLflow refuses (a value changed on resume) are reported, not a reason to stop sending metrics.</summary>
    private async Task<bool> SendParamsAndTagsAsync(Dictionary<string, string> parameters, Dictionary<string, string> tags, CancellationToken token)
    {
        if (parameters.Count == 0 && tags.Count == 0)
            return true;
        try
        {
            await publisher.SendParamsAndTagsAsync(parameters, tags, token);
            if (parameters.Count > 0)
                publisher.MarkParamsSent();
            return true;
        }
        catch (MlflowException e) when (!e.IsTransient)
        {
            publisher.RecordError(e.Message);
            Warn($"{e.Message}. Metrics are still sent.");
            return false;
        }
    }

    private void Stop(string reason)
    {
        offline = true;
        lock (gate)
        {
            pendingRows.Clear();
            pendingParams.Clear();
            pendingTags.Clear();
            pendingArtifacts.Clear();
        }
        try
        {
            publisher.RecordError(reason);
        }
        catch (IOException)
        {
            // The run directory is gone or full; the warning below is all that can be done.
        }
        Warn($"{reason}. The run goes on locally; push it later with: {RunSync.Command(runDirectory)}");
    }

    private void Warn(string message)
    {
        warned = true;
        warn(message.StartsWith("MLflow", StringComparison.Ordinal) ? message : $"MLflow at {client.Options.DisplayUri}: {message}");
    }

    public void Dispose()
    {
        if (!worker.IsCompleted)
        {
            stop.Cancel();
            worker.Wait(TimeSpan.FromSeconds(5));
        }
        stop.Dispose();
        signal.Dispose();
    }
}
