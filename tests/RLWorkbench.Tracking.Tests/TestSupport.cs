namespace RLWorkbench.Tracking.Tests;

/// <summary>A clock that stands still unless a test moves it.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>A directory under the system temp folder, removed with everything in it when disposed.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rlw-tracking-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Records what a run hands its sink.</summary>
internal sealed class RecordingSink : IRunSink
{
    public List<IReadOnlyDictionary<string, string>> Params { get; } = [];

    public List<IReadOnlyDictionary<string, string>> Tags { get; } = [];

    public List<(string Table, long Index, IReadOnlyList<string> Columns, IReadOnlyList<object?> Values)> Rows { get; } = [];

    public List<string> Artifacts { get; } = [];

    public List<RunInfo> Finished { get; } = [];

    public bool Disposed { get; private set; }

    public void LogParams(IReadOnlyDictionary<string, string> parameters) => Params.Add(parameters);

    public void SetTags(IReadOnlyDictionary<string, string> tags) => Tags.Add(tags);

    public void LogRow(string table, long rowIndex, IReadOnlyList<string> columns, IReadOnlyList<object?> values) => Rows.Add((table, rowIndex, columns, values));

    public void LogArtifact(string relativePath) => Artifacts.Add(relativePath);

    public void Finish(RunInfo info) => Finished.Add(info);

    public void Dispose() => Disposed = true;
}

internal sealed class RecordingMirror : IRunMirror
{
    public List<RecordingSink> Sinks { get; } = [];

    public IRunSink Start(RunInfo info, string runDirectory)
    {
        var sink = new RecordingSink();
        Sinks.Add(sink);
        return sink;
    }
}
