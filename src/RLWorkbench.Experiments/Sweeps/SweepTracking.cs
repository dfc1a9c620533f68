using RLWorkbench.Tracking;
using RLWorkbench.Tracking.Mlflow;

namespace RLWorkbench.Experiments.Sweeps;

/// <summary>
/// A sweep on an MLflow server: one parent run for the sweep, and each trial's own mirrored run as its child
/// (MLflow's mlflow.parentRunId tag), so MLflow's run table nests the trials under the sweep and its compare
/// view can group them by configuration. The parent's id is kept in the sweep directory's mlflow.json, where
/// every worker (on any node) reads it and where a resumed sweep finds its parent again. Nothing happens
/// without MLFLOW_TRACKING_URI, and a server that is down only costs a warning.
/// </summary>
public static class SweepTracking
{
    public const string ParentRunIdTag = "mlflow.parentRunId";
    public const string SweepTag = "sweep.name";
    public const string TrialTag = "sweep.trial";
    public const string ConfigurationTag = "sweep.configuration";
    public const string ConfigurationLabelTag = "sweep.label";
    public const string SeedTag = "sweep.seed";

    /// <summary>The parent run's kind (rlw.kind), so a sweep is told apart from its trials in MLflow.</summary>
    public const string ParentKind = "sweep";

    /// <summary>
    /// Creates the sweep's parent run on the server MLFLOW_TRACKING_URI names, or reopens it when the sweep
    /// directory already records one there (a resumed sweep): settings as params, status RUNNING. Call it
    /// before the first trial starts, so the workers find its id. Returns an untracked parent when no server
    /// is set, the settings cannot be used or the server does not answer in time (with one warning).
    /// </summary>
    public static Task<SweepParentRun> StartParentAsync(string sweepDirectory, SweepManifest manifest, Action<string> warn, CancellationToken cancel = default) =>
        StartParentAsync(sweepDirectory, manifest, Environment.GetEnvironmentVariable, warn, cancel);

    public static Task<SweepParentRun> StartParentAsync(string sweepDirectory, SweepManifest manifest, Func<string, string?> variable, Action<string> warn, CancellationToken cancel = default)
    {
        MlflowOptions? options;
        try
        {
            options = MlflowOptions.FromEnvironment(variable);
        }
        catch (MlflowConfigurationException e)
        {
            warn($"{e.Message} The sweep is kept locally only.");
            return Task.FromResult(SweepParentRun.Untracked);
        }
        return options is null
            ? Task.FromResult(SweepParentRun.Untracked)
            : StartParentCoreAsync(sweepDirectory, manifest, new MlflowClient(options), warn, TimeProvider.System, ownsClient: true, cancel);
    }

    /// <summary>Like the other overloads, with a client (and clock) the caller chose; the client stays the caller's.</summary>
    public static Task<SweepParentRun> StartParentAsync(string sweepDirectory, SweepManifest manifest, MlflowClient client, Action<string> warn, TimeProvider clock, CancellationToken cancel = default) =>
        StartParentCoreAsync(sweepDirectory, manifest, client, warn, clock, ownsClient: false, cancel);

    private static async Task<SweepParentRun> StartParentCoreAsync(string sweepDirectory, SweepManifest manifest, MlflowClient client, Action<string> warn, TimeProvider clock, bool ownsClient, CancellationToken cancel)
    {
        var state = MlflowSyncState.Load(sweepDirectory, client.Options.DisplayUri);
        var publisher = new MlflowPublisher(client, sweepDirectory, state);
        var resumed = state.GetRun() is not null;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        limit.CancelAfter(client.Options.FinishTimeout);
        try
        {
            var run = await publisher.EnsureRunAsync(ParentInfo(manifest), limit.Token);
            if (resumed)
            {
                await client.UpdateRunAsync(run.RunId, MlflowRunStatus.Running, null, limit.Token);
                state.EndSent = false;
                publisher.Save();
            }
        }
        catch (Exception e) when (IsServerTrouble(e, cancel))
        {
            warn($"{Reason(e, client)}. The sweep goes on without its MLflow parent run; its trials are still mirrored.");
            if (ownsClient)
                client.Dispose();
            return SweepParentRun.Untracked;
        }
        try
        {
            // Params keep their first value in MLflow; a resumed sweep has the same manifest, so sending them again is harmless.
            await publisher.SendParamsAndTagsAsync(ParentParams(manifest), new Dictionary<string, string>(), limit.Token);
            publisher.MarkParamsSent();
        }
        catch (Exception e) when (IsServerTrouble(e, cancel))
        {
            // The parent exists now, so it is kept and ended with the sweep even without its params.
            warn($"{Reason(e, client)}. Not every setting reached the sweep's parent run as a param; the sweep goes on.");
        }
        return new SweepParentRun(client, ownsClient, publisher, sweepDirectory, warn, clock);
    }

    /// <summary>A server that is down, slow, refuses or cannot be recorded; not the caller cancelling.</summary>
    internal static bool IsServerTrouble(Exception e, CancellationToken cancel) =>
        e is MlflowException or IOException || (e is OperationCanceledException && !cancel.IsCancellationRequested);

    internal static string Reason(Exception e, MlflowClient client) => e is OperationCanceledException
        ? $"MLflow at {client.Options.DisplayUri} did not answer within {client.Options.FinishTimeout.TotalSeconds:0} s"
        : e.Message;

    /// <summary>
    /// The tags a trial's worker sets on its run (Run.SetTags, which its MLflow mirror sends): the sweep, the
    /// trial, its configuration key and label and its seed, and mlflow.parentRunId when the sweep's parent run
    /// is on the server this process mirrors to (MLFLOW_TRACKING_URI).
    /// </summary>
    public static IReadOnlyDictionary<string, string> TrialTags(string sweepDirectory, SweepManifest manifest, SweepTrial trial, Func<string, string?>? variable = null)
    {
        var label = manifest.LabelOf(trial) ?? "";
        var tags = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [SweepTag] = manifest.Name,
            [TrialTag] = trial.Id,
            [ConfigurationTag] = trial.ConfigurationKey,
            [ConfigurationLabelTag] = label,
            [SeedTag] = trial.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (ParentRunId(sweepDirectory, variable ?? Environment.GetEnvironmentVariable) is { } parent)
            tags[ParentRunIdTag] = parent;
        return tags;
    }

    /// <summary>The parent run's id when the sweep directory records one on the server the environment names; else null.</summary>
    public static string? ParentRunId(string sweepDirectory, Func<string, string?> variable)
    {
        MlflowOptions? options;
        try
        {
            options = MlflowOptions.FromEnvironment(variable);
        }
        catch (MlflowConfigurationException)
        {
            return null;
        }
        if (options is null || MlflowSyncState.TryRead(sweepDirectory) is not { } state)
            return null;
        // An id on another server would point at nothing (or at someone else's run).
        return state.TrackingUri == options.DisplayUri ? state.RunId : null;
    }

    /// <summary>What a sweep ended as, for its parent run: stopped, any trial not finished (failed), or finished.</summary>
    public static RunStatus StatusOf(string sweepDirectory, SweepManifest manifest, bool stopped)
    {
        if (stopped)
            return RunStatus.Killed;
        return manifest.Trials.All(t => Finished(SweepLayout.TrialDirectory(sweepDirectory, t))) ? RunStatus.Finished : RunStatus.Failed;

        static bool Finished(string trialDirectory)
        {
            try
            {
                return TrialRecords.StateOf(trialDirectory) == TrialState.Finished;
            }
            catch (RunFormatException)
            {
                return false;
            }
        }
    }

    internal static RunInfo ParentInfo(SweepManifest manifest) => new(
        manifest.Name,
        ParentKind,
        RunStatus.Running,
        manifest.CreatedUtc,
        null,
        null,
        new Dictionary<string, string> { [SweepTag] = manifest.Name, ["sweep.experiment"] = manifest.Experiment },
        RunStore.DefaultVersions());

    /// <summary>
    /// The sweep's settings: what it varies and over which seeds, each configuration's label, and the base
    /// configuration without the varied settings and seeds (their base values would mislead).
    /// </summary>
    internal static Dictionary<string, string> ParentParams(SweepManifest manifest)
    {
        var parameters = RunParameters.Flatten(manifest.BaseConfiguration)
            .Where(p => !manifest.SettingPaths.Contains(p.Key, StringComparer.OrdinalIgnoreCase)
                && !p.Key.Split('.')[^1].Contains("seed", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        parameters["sweep.experiment"] = manifest.Experiment;
        parameters["sweep.spec"] = manifest.SpecPath ?? "";
        parameters["sweep.settingPaths"] = string.Join(",", manifest.SettingPaths);
        parameters["sweep.seeds"] = string.Join(",", manifest.Seeds);
        parameters["sweep.configurations"] = manifest.Configurations.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        parameters["sweep.trials"] = manifest.Trials.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var configuration in manifest.Configurations)
            parameters["sweep." + configuration.Key] = configuration.Label;
        return parameters;
    }
}

/// <summary>
/// The sweep's parent run on MLflow, or <see cref="Untracked"/> (every call does nothing). Finish it once the
/// sweep's report is written: the report goes up as the run's artifacts and the run ends with the sweep's status.
/// </summary>
public sealed class SweepParentRun : IDisposable
{
    private readonly MlflowClient? client;
    private readonly bool ownsClient;
    private readonly MlflowPublisher? publisher;
    private readonly string? sweepDirectory;
    private readonly Action<string>? warn;
    private readonly TimeProvider clock;

    internal SweepParentRun(MlflowClient? client, bool ownsClient, MlflowPublisher? publisher, string? sweepDirectory, Action<string>? warn, TimeProvider clock)
    {
        this.client = client;
        this.ownsClient = ownsClient;
        this.publisher = publisher;
        this.sweepDirectory = sweepDirectory;
        this.warn = warn;
        this.clock = clock;
    }

    public static SweepParentRun Untracked { get; } = new(null, false, null, null, null, TimeProvider.System);

    /// <summary>The parent's MLflow run id; null when the sweep is not tracked.</summary>
    public string? RunId => publisher?.Run?.RunId;

    public bool IsTracked => RunId is not null;

    /// <summary>
    /// Uploads the report's files (report.md, report.csv, learning_curves.png) as the parent's artifacts and ends
    /// it with <paramref name="status"/> (<see cref="SweepTracking.StatusOf"/>). Takes no cancellation token: it
    /// runs after Ctrl+C too, bounded by the client's finish timeout, and a failure is a warning.
    /// </summary>
    public async Task FinishAsync(RunStatus status, SweepReportResult? report)
    {
        if (client is null || publisher?.Run is not { } run)
            return;
        using var limit = new CancellationTokenSource(client.Options.FinishTimeout);
        try
        {
            var files = report is null ? [] : new[] { report.MarkdownPath, report.CsvPath, report.FigurePath }.OfType<string>().Where(File.Exists);
            // Uploaded every time the sweep ends: a resumed sweep's report replaces the earlier one.
            foreach (var file in files)
                await client.UploadArtifactAsync(run, Path.GetFileName(file), file, limit.Token);
            await client.UpdateRunAsync(run.RunId, MlflowRunStatus.From(status), clock.GetUtcNow(), limit.Token);
            publisher.State.EndSent = true;
            publisher.MarkComplete();
        }
        catch (Exception e) when (SweepTracking.IsServerTrouble(e, CancellationToken.None))
        {
            warn?.Invoke($"{SweepTracking.Reason(e, client)}; the sweep's parent run in MLflow may still show it running. Its report is in {sweepDirectory}.");
        }
    }

    public void Dispose()
    {
        if (ownsClient)
            client?.Dispose();
    }
}
