namespace RLWorkbench.Tracking;

/// <summary>
/// Somewhere a run is mirrored to while it is written locally (an MLflow server). Calls come from the
/// training loop, so they must return at once and never throw: a slow or broken sink cannot cost a run.
/// </summary>
public interface IRunSink : IDisposable
{
    void LogParams(IReadOnlyDictionary<string, string> parameters);

    void SetTags(IReadOnlyDictionary<string, string> tags);

    /// <summary>One row of a metrics table, <paramref name="rowIndex"/> counted from 0 over the whole file.</summary>
    void LogRow(string table, long rowIndex, IReadOnlyList<string> columns, IReadOnlyList<object?> values);

    /// <summary>A file under the run's artifacts/ folder, given relative to it.</summary>
    void LogArtifact(string relativePath);

    /// <summary>The run ended locally; the sink sends what it still holds, within its own time limit.</summary>
    void Finish(RunInfo info);
}

/// <summary>Starts a sink for each run a store creates.</summary>
public interface IRunMirror
{
    IRunSink Start(RunInfo info, string runDirectory);
}
