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
    private RunInfo info;

    internal Run(string directory, RunInfo info)
    {
        Directory = directory;
        this.info = info;
        System.IO.Directory.CreateDirectory(ArtifactsDirectory);
    }

    public string Id => info.Id;

    public string Kind => info.Kind;

    public string Directory { get; }

    public string ArtifactsDirectory => Path.Combine(Directory, "artifacts");

    public RunStatus Status => info.Status;

    public RunInfo Info => info;

    public string ConfigPath => Path.Combine(Directory, "config.json");

    /// <summary>Saves the resolved configuration the run uses (overwrites, atomically).</summary>
    public void WriteConfig<T>(T config) => AtomicFile.WriteAllText(ConfigPath, JsonSerializer.Serialize(config, Json));

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
        var table = new MetricsTable(Path.Combine(Directory, name + ".csv"), columns);
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

    public void SetTag(string key, string value)
    {
        info = info with { Tags = new Dictionary<string, string>(info.Tags) { [key] = value } };
        SaveInfo();
    }

    public void MarkRunning()
    {
        info = info with { Status = RunStatus.Running, EndedUtc = null, Message = null };
        SaveInfo();
    }

    public void Finish(RunStatus status, string? message = null)
    {
        info = info with { Status = status, EndedUtc = DateTimeOffset.UtcNow, Message = message };
        SaveInfo();
    }

    internal void SaveInfo() => AtomicFile.WriteAllText(Path.Combine(Directory, RunStore.StatusFile), JsonSerializer.Serialize(info, Json));

    public void Dispose()
    {
        foreach (var t in tables.Values)
            t.Dispose();
        tables.Clear();
        if (info.Status == RunStatus.Running)
            Finish(RunStatus.Failed, "the process ended without marking the run finished");
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
