using System.Text.Json;
using System.Text.Json.Nodes;

namespace RLWorkbench.Tracking;

/// <summary>
/// One run's directory: config.json (the resolved configuration), status.json, CSV metrics tables
/// and an artifacts/ folder. Every command that produces results writes through one of these.
/// </summary>
public sealed class Run : IDisposable
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    private readonly Dictionary<string, MetricsTable> tables = new(StringComparer.Ordinal);
    private readonly IRunSink? sink;
    private readonly RunLock? claim;
    private readonly TimeProvider clock;
    private readonly object paramsGate = new();
    private RunInfo info;

    /// <param name="claim">This process's hold on the directory, let go when the run is disposed.</param>
    internal Run(string directory, RunInfo info, RunLock? claim, IRunSink? sink = null, TimeProvider? clock = null)
    {
        Directory = directory;
        this.info = info;
        this.claim = claim;
        this.sink = sink;
        this.clock = clock ?? TimeProvider.System;
        System.IO.Directory.CreateDirectory(ArtifactsDirectory);
    }

    public string Id => info.Id;

    public string Kind => info.Kind;

    public string Directory { get; }

    public string ArtifactsDirectory => Path.Combine(Directory, "artifacts");

    public RunStatus Status => info.Status;

    public RunInfo Info => info;

    public string ConfigPath => Path.Combine(Directory, "config.json");

    public string ParamsPath => Path.Combine(Directory, RunParameters.FileName);

    /// <summary>Whether this run is mirrored somewhere (an MLflow server) besides its directory.</summary>
    public bool IsMirrored => sink is not null;

    /// <summary>
    /// Saves the resolved configuration the run uses (overwrites, atomically) and records it flattened
    /// as the run's parameters, so `runs show` and MLflow list every setting without knowing its type.
    /// </summary>
    public void WriteConfig<T>(T config)
    {
        var text = JsonSerializer.Serialize(config, Json);
        AtomicFile.WriteAllText(ConfigPath, text);
        LogParams(RunParameters.Flatten(JsonNode.Parse(text)));
    }

    /// <summary>Adds parameters (params.json); a key written again takes the new value.</summary>
    public void LogParams(IReadOnlyDictionary<string, string> parameters)
    {
        lock (paramsGate)
        {
            var all = ReadParams();
            foreach (var (key, value) in parameters)
                all[key] = value;
            AtomicFile.WriteAllText(ParamsPath, JsonSerializer.Serialize(all, Json));
        }
        sink?.LogParams(parameters);
    }

    /// <summary>The parameters recorded so far (flattened configuration and any logged explicitly).</summary>
    public SortedDictionary<string, string> ReadParams()
    {
        if (!File.Exists(ParamsPath))
            return new SortedDictionary<string, string>(StringComparer.Ordinal);
        var read = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(ParamsPath), Json);
        return new SortedDictionary<string, string>(read ?? [], StringComparer.Ordinal);
    }

    public T ReadConfig<T>() => JsonSerializer.Deserialize<T>(File.ReadAllText(ConfigPath), Json)
        ?? throw new InvalidDataException($"{ConfigPath} is empty.");

    /// <summary>Saves a JSON document next to the run (a summary, versions, a Q-table).</summary>
    public void WriteJson<T>(string fileName, T value) => AtomicFile.WriteAllText(Path.Combine(Directory, fileName), JsonSerializer.Serialize(value, Json));

    /// <summary>Opens (or reopens, to append) a CSV table of this run.</summary>
    public MetricsTable Table(string name, IReadOnlyList<string> columns)
    {
        if (tables.TryGetValue(name, out var existing))
        {
            if (!existing.Columns.SequenceEqual(columns))
                throw new InvalidOperationException($"Table '{name}' is already open with other columns.");
            return existing;
        }
        Action<long, IReadOnlyList<object?>>? onRow = sink is null ? null : (index, values) => sink.LogRow(name, index, columns, values);
        var table = new MetricsTable(Path.Combine(Directory, name + ".csv"), columns, onRow);
        tables[name] = table;
        return table;
    }

    /// <summary>A path for an artifact file (model, plot, checkpoint) inside the run.</summary>
    public string ArtifactPath(string relative)
    {
        var path = Path.GetFullPath(Path.Combine(ArtifactsDirectory, relative));
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }

    /// <summary>
    /// Records that a file written under artifacts/ (through <see cref="ArtifactPath"/>) is complete, so a
    /// mirror can upload it now; files never announced are still uploaded when the run finishes.
    /// </summary>
    public void LogArtifact(string relative)
    {
        var path = Path.GetFullPath(Path.Combine(ArtifactsDirectory, relative));
        if (!File.Exists(path))
            throw new FileNotFoundException($"No artifact '{relative}' under {ArtifactsDirectory}.", path);
        sink?.LogArtifact(Path.GetRelativePath(ArtifactsDirectory, path).Replace('\\', '/'));
    }

    public void SetTag(string key, string value) => SetTags(new Dictionary<string, string> { [key] = value });

    public void SetTags(IReadOnlyDictionary<string, string> tags)
    {
        var merged = new Dictionary<string, string>(info.Tags);
        foreach (var (key, value) in tags)
            merged[key] = value;
        info = info with { Tags = merged };
        SaveInfo();
        sink?.SetTags(tags);
    }

    public void MarkRunning()
    {
        info = info with { Status = RunStatus.Running, EndedUtc = null, Message = null };
        SaveInfo();
    }

    public void Finish(RunStatus status, string? message = null)
    {
        info = info with { Status = status, EndedUtc = clock.GetUtcNow(), Message = message };
        SaveInfo();
        sink?.Finish(info);
    }

    internal void SaveInfo()
    {
        var path = Path.Combine(Directory, RunStore.StatusFile);
        var text = JsonSerializer.Serialize(info, Json);
        try
        {
            AtomicFile.WriteAllText(path, text);
        }
        catch (IOException e)
        {
            // A full disk: an ending run must still say how it ended, or it reads as running (or stale) forever.
            if (AtomicFile.OverwriteWithinItsSpace(path, text) is { } failure)
                throw new IOException($"Could not update {path}: {e.Message}; rewriting it in place failed too ({failure.Message}).", e);
        }
    }

    public void Dispose()
    {
        try
        {
            foreach (var t in tables.Values)
                t.Dispose();
            tables.Clear();
            if (info.Status == RunStatus.Running)
                Finish(RunStatus.Failed, "the process ended without marking the run finished");
            sink?.Dispose();
        }
        finally
        {
            // Last, so no other process can take the directory while this one still writes to it.
            claim?.Dispose();
        }
    }

    public static JsonNode? ReadJsonNode(string path) => JsonNode.Parse(File.ReadAllText(path));
}

/// <summary>What status.json holds.</summary>
public sealed record RunInfo(
    string Id,
    string Kind,
    RunStatus Status,
    DateTimeOffset StartedUtc,
    DateTimeOffset? EndedUtc,
    string? Message,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyDictionary<string, string> Versions);
