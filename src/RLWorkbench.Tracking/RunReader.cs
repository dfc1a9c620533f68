using System.Text.Json;
using System.Text.Json.Nodes;

namespace RLWorkbench.Tracking;

/// <summary>
/// A run loaded back from its directory for plots, comparisons, notebooks and `runs show`. Whatever can
/// be read is; what is missing or damaged is listed in <see cref="Problems"/> rather than thrown, except a
/// directory that is not a run at all.
/// </summary>
public sealed class RunRecord
{
    private readonly Dictionary<string, RunTable> tables = new(StringComparer.Ordinal);

    internal RunRecord(string directory, RunInfo info, bool isStale, JsonNode? config, IReadOnlyDictionary<string, string> parameters, IReadOnlyList<string> tableNames, IReadOnlyList<string> artifacts, List<string> problems)
    {
        Directory = directory;
        Info = info;
        IsStale = isStale;
        Config = config;
        Parameters = parameters;
        TableNames = tableNames;
        Artifacts = artifacts;
        ProblemList = problems;
    }

    public string Directory { get; }

    public RunInfo Info { get; }

    public string Id => Info.Id;

    public string Kind => Info.Kind;

    /// <summary>status.json says running, but no live process holds the run (see <see cref="RunReader.IsStale"/>).</summary>
    public bool IsStale { get; }

    /// <summary>config.json as a JSON tree, null when the run has none (it crashed before writing it).</summary>
    public JsonNode? Config { get; }

    public IReadOnlyDictionary<string, string> Parameters { get; }

    /// <summary>Names of the CSV tables present (file names without .csv), sorted.</summary>
    public IReadOnlyList<string> TableNames { get; }

    /// <summary>Files under artifacts/, relative to it with '/' separators, sorted.</summary>
    public IReadOnlyList<string> Artifacts { get; }

    public string ArtifactsDirectory => Path.Combine(Directory, "artifacts");

    public IReadOnlyList<string> Problems => ProblemList;

    private List<string> ProblemList { get; }

    /// <summary>Start to end; a live run's so far; null for a stale run, whose end nobody recorded.</summary>
    public TimeSpan? Duration(DateTimeOffset now) => Info.EndedUtc is { } end
        ? end - Info.StartedUtc
        : Info.Status == RunStatus.Running && !IsStale ? now - Info.StartedUtc : null;

    /// <summary>A table by name (metrics, eval, episodes, iterations), or null when the run has none.</summary>
    public RunTable? Table(string name)
    {
        if (tables.TryGetValue(name, out var cached))
            return cached;
        var path = Path.Combine(Directory, name + ".csv");
        if (!File.Exists(path))
            return null;
        var table = RunTable.Read(path);
        foreach (var p in table.Problems)
            ProblemList.Add(p);
        tables[name] = table;
        return table;
    }

    public RunTable RequireTable(string name) => Table(name)
        ?? throw new RunFormatException($"Run {Id} has no {name}.csv, which a {Kind} run writes.");

    /// <summary>A JSON file of the run (a summary, a Q-table), null when absent.</summary>
    public JsonNode? ReadJson(string relativePath)
    {
        var path = Path.Combine(Directory, relativePath);
        if (!File.Exists(path))
            return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new RunFormatException($"{relativePath} in run {Id} is not valid JSON: {e.Message}", e);
        }
    }
}

public static class RunReader
{
    /// <summary>Loads a run; a directory without status.json is not a run and gives a <see cref="RunFormatException"/>.</summary>
    public static RunRecord Read(string directory)
    {
        var full = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(full))
            throw new RunFormatException($"There is no run directory {full}.");
        var problems = new List<string>();
        var info = ReadInfo(full, problems);

        JsonNode? config = null;
        var configPath = Path.Combine(full, "config.json");
        if (!File.Exists(configPath))
        {
            problems.Add("config.json is missing (the run stopped before saving its configuration).");
        }
        else
        {
            try
            {
                config = JsonNode.Parse(File.ReadAllText(configPath));
            }
            catch (JsonException e)
            {
                problems.Add($"config.json is not valid JSON ({e.Message}).");
            }
        }

        IReadOnlyDictionary<string, string> parameters;
        var paramsPath = Path.Combine(full, RunParameters.FileName);
        try
        {
            parameters = File.Exists(paramsPath)
                ? JsonSerializer.Deserialize<SortedDictionary<string, string>>(File.ReadAllText(paramsPath)) ?? new SortedDictionary<string, string>()
                : RunParameters.Flatten(config);
        }
        catch (JsonException e)
        {
            problems.Add($"{RunParameters.FileName} is not valid JSON ({e.Message}); parameters are taken from config.json.");
            parameters = RunParameters.Flatten(config);
        }

        var tableNames = System.IO.Directory.EnumerateFiles(full, "*.csv")
            .Select(Path.GetFileNameWithoutExtension)
            .OfType<string>()
            .Order(StringComparer.Ordinal)
            .ToList();
        var artifactsDir = Path.Combine(full, "artifacts");
        var artifacts = System.IO.Directory.Exists(artifactsDir)
            ? System.IO.Directory.EnumerateFiles(artifactsDir, "*", SearchOption.AllDirectories)
                .Where(f => !Path.GetFileName(f).Contains(".tmp-", StringComparison.Ordinal))
                .Select(f => Path.GetRelativePath(artifactsDir, f).Replace('\\', '/'))
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];
        var stale = IsStale(full, info);
        if (stale)
            problems.Add(StaleExplanation);
        return new RunRecord(full, info, stale, config, parameters, tableNames, artifacts, problems);
    }

    public const string StaleExplanation =
        "status.json says running, but no process holds the run: the process that wrote it was killed or its machine stopped, so it will never finish on its own.";

    /// <summary>
    /// A run whose status.json says running but whose <see cref="RunLock"/> no live process holds: its process died
    /// without a word (SIGKILL, a crash of the runtime, a lost machine), since a live run holds its lock to the end.
    /// </summary>
    public static bool IsStale(string directory, RunInfo info) => info.Status == RunStatus.Running && !RunLock.IsHeld(directory);

    /// <summary>Only a run's status.json: what a poll of many runs needs (their state, a failure message) without the rest of <see cref="Read"/>.</summary>
    public static RunInfo ReadInfo(string directory) => ReadInfo(Path.GetFullPath(directory), []);

    /// <summary>Every run under a root, newest first by start time; unreadable ones are listed with the reason.</summary>
    public static IReadOnlyList<RunListing> List(string root)
    {
        if (!System.IO.Directory.Exists(root))
            return [];
        var result = new List<RunListing>();
        foreach (var dir in System.IO.Directory.EnumerateDirectories(root))
        {
            if (!File.Exists(Path.Combine(dir, RunStore.StatusFile)))
                continue;
            try
            {
                var info = ReadInfo(dir, []);
                result.Add(new RunListing(dir, info, null, IsStale(dir, info), RunHeadline.Read(dir, info)));
            }
            catch (RunFormatException e)
            {
                result.Add(new RunListing(dir, null, e.Message, false, RunHeadline.None));
            }
        }
        return result
            .OrderByDescending(r => r.Info?.StartedUtc ?? DateTimeOffset.MinValue)
            .ThenBy(r => r.Directory, StringComparer.Ordinal)
            .ToList();
    }

    private static RunInfo ReadInfo(string full, List<string> problems)
    {
        var statusPath = Path.Combine(full, RunStore.StatusFile);
        if (!File.Exists(statusPath))
            throw new RunFormatException($"{full} is not a run directory: it has no {RunStore.StatusFile}.");
        RunInfo? info;
        try
        {
            info = JsonSerializer.Deserialize<RunInfo>(File.ReadAllText(statusPath), Run.Json);
        }
        catch (JsonException e)
        {
            throw new RunFormatException($"{statusPath} cannot be read as a run status: {e.Message}", e);
        }
        if (info is null || string.IsNullOrEmpty(info.Id) || string.IsNullOrEmpty(info.Kind))
            throw new RunFormatException($"{statusPath} has no run id or kind.");
        // Runs written before tags and versions were recorded leave these out of status.json.
        var tags = (IReadOnlyDictionary<string, string>?)info.Tags;
        var versions = (IReadOnlyDictionary<string, string>?)info.Versions;
        if (versions is null || versions.Count == 0)
            problems.Add($"{RunStore.StatusFile} records no versions (a run from an older workbench).");
        return info with
        {
            Tags = tags ?? new Dictionary<string, string>(),
            Versions = versions ?? new Dictionary<string, string>(),
        };
    }
}

/// <summary>One entry of `runs list`: a run's status (stale: said running, but dead) and headline, or why it could not be read.</summary>
public sealed record RunListing(string Directory, RunInfo? Info, string? Problem, bool Stale, RunHeadline Headline);
