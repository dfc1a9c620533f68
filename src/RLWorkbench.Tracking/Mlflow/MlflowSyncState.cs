using System.Text.Json;

namespace RLWorkbench.Tracking.Mlflow;

/// <summary>
/// What of a run has reached MLflow (mlflow.json in the run directory): the MLflow run it maps to, how
/// many rows of each table were sent, which artifacts were uploaded and whether the end was. `runs sync`
/// reads it to push only the rest. It holds the tracking URI without credentials, never a secret.
/// </summary>
public sealed class MlflowSyncState
{
    public const string FileName = "mlflow.json";

    public string TrackingUri { get; set; } = "";

    public string? ExperimentId { get; set; }

    public string? RunId { get; set; }

    public string? ArtifactUri { get; set; }

    /// <summary>Rows of each table sent, from the top; rows after these are still to send.</summary>
    public Dictionary<string, long> RowsSent { get; set; } = new(StringComparer.Ordinal);

    public bool ParamsSent { get; set; }

    /// <summary>
    /// Each param as MLflow holds it: the value first sent, which MLflow never lets change. A resumed run that
    /// changed a setting sends the new value as a tag instead (<see cref="MlflowPublisher.ChangedParamTagPrefix"/>).
    /// </summary>
    public Dictionary<string, string> ParamsLogged { get; set; } = new(StringComparer.Ordinal);

    public List<string> ArtifactsUploaded { get; set; } = [];

    /// <summary>The run's end (status and end time) reached MLflow.</summary>
    public bool EndSent { get; set; }

    /// <summary>Everything the run holds is on the server.</summary>
    public bool Complete { get; set; }

    /// <summary>Why the last attempt stopped, in MLflow's words when it gave them.</summary>
    public string? LastError { get; set; }

    public MlflowRun? GetRun() => RunId is null || ExperimentId is null ? null : new MlflowRun(RunId, ExperimentId, ArtifactUri);

    public static string PathIn(string runDirectory) => Path.Combine(runDirectory, FileName);

    /// <summary>The state for this server, or a fresh one when the run was never sent there.</summary>
    public static MlflowSyncState Load(string runDirectory, string trackingUri)
    {
        var path = PathIn(runDirectory);
        if (File.Exists(path))
        {
            try
            {
                var state = JsonSerializer.Deserialize<MlflowSyncState>(File.ReadAllText(path), RLWorkbench.Tracking.Run.Json);
                if (state is not null && state.TrackingUri == trackingUri)
                {
                    state.RowsSent = new Dictionary<string, long>(state.RowsSent ?? [], StringComparer.Ordinal);
                    state.ParamsLogged = new Dictionary<string, string>(state.ParamsLogged ?? [], StringComparer.Ordinal);
                    state.ArtifactsUploaded ??= [];
                    return state;
                }
            }
            catch (JsonException)
            {
                // A damaged record only costs a fresh MLflow run; the local run is the source of truth.
            }
        }
        return new MlflowSyncState { TrackingUri = trackingUri };
    }

    public static MlflowSyncState? TryRead(string runDirectory)
    {
        var path = PathIn(runDirectory);
        if (!File.Exists(path))
            return null;
        try
        {
            return JsonSerializer.Deserialize<MlflowSyncState>(File.ReadAllText(path), RLWorkbench.Tracking.Run.Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Save(string runDirectory) => AtomicFile.WriteAllText(PathIn(runDirectory), JsonSerializer.Serialize(this, RLWorkbench.Tracking.Run.Json));
}
