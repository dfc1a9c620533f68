using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Sweeps;

/// <summary>
/// A sweep spec file as the researcher wrote it (docs/sweeps.md), checked for shape: known fields of the
/// right JSON types, sound distributions, a seed list. Whether the named settings exist and their values
/// suit the experiment is checked against the experiment itself by <see cref="SweepPlanner"/>.
/// </summary>
/// <param name="Name">Names the sweep and its default directory; the spec's file name when not given.</param>
/// <param name="ConfigFile">Full path of the experiment file to start from (the spec gives it relative to its own directory); null for the kind's defaults.</param>
/// <param name="Configuration">Partial configuration laid over the defaults or the file, leaf by leaf.</param>
/// <param name="Seeds">Null: the configuration's own seed, once.</param>
/// <param name="Out">The sweep directory as the spec gives it (relative to the current directory); null for artifacts/sweeps/&lt;name&gt;.</param>
/// <param name="Variants">Named bundles of settings, each crossed with the grid and random samples; empty for none.</param>
public sealed record SweepSpec(
    string Name,
    string Experiment,
    string? ConfigFile,
    JsonObject Configuration,
    IReadOnlyList<GridAxis> Grid,
    RandomSearch? Random,
    IReadOnlyList<long>? Seeds,
    int? MaxParallel,
    SlurmSettings Slurm,
    string? Out,
    string? SpecPath,
    IReadOnlyList<SweepVariant>? Variants = null)
{
    public const int MaxWorkers = 1024;

    private static readonly string[] Fields = ["description", "name", "experiment", "configFile", "configuration", "variants", "grid", "random", "seeds", "maxParallel", "slurm", "out"];
    private static readonly string[] RandomFields = ["samples", "seed", "settings"];
    private static readonly string[] SlurmFields = ["cpusPerTask", "mem", "time", "partition", "extraArguments"];

    internal static readonly JsonDocumentOptions Reading = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>The default sweep directory for a sweep of this name.</summary>
    public static string DefaultDirectory(string name) => Path.Combine("artifacts", "sweeps", name);

    /// <summary>Reads and checks a spec file; every problem is an <see cref="ExperimentConfigException"/> of one sentence.</summary>
    public static SweepSpec Load(string path)
    {
        if (!File.Exists(path))
            throw new ExperimentConfigException(InputFile.Missing("sweep spec", path, "give a JSON file such as experiments/sweep-smoke.json"));
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path), documentOptions: Reading);
        }
        catch (JsonException e)
        {
            throw new ExperimentConfigException($"sweep spec '{path}' is not valid JSON: {FirstSentence(e.Message)}");
        }
        if (root is not JsonObject spec)
            throw new ExperimentConfigException($"sweep spec '{path}' must be a JSON object (docs/sweeps.md).");
        var specDirectory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        return Parse(spec, Path.GetFileNameWithoutExtension(path), specDirectory, Path.GetFullPath(path));
    }

    /// <summary>Checks a spec already in memory; <paramref name="specDirectory"/> anchors a relative configFile.</summary>
    public static SweepSpec Parse(JsonObject spec, string defaultName, string specDirectory, string? specPath = null)
    {
        RejectUnknown(spec, Fields, "field", "the sweep spec");
        var name = OptionalString(spec, "name") ?? defaultName;
        if (!Regex.IsMatch(name, "^[A-Za-z0-9._-]{1,100}$"))
            throw new ExperimentConfigException($"name '{name}' may only hold letters, digits, '.', '_' and '-' (at most 100), since it names the sweep's directory and jobs.");
        var experiment = OptionalString(spec, "experiment")
            ?? throw new ExperimentConfigException("the sweep spec has no \"experiment\"; name the kind every trial runs (ppo, qlearn or compare).");
        var configFile = OptionalString(spec, "configFile") is { } file ? Path.GetFullPath(Path.Combine(specDirectory, file)) : null;
        if (configFile is not null && !File.Exists(configFile))
            throw new ExperimentConfigException($"configFile '{OptionalString(spec, "configFile")}' does not exist; it is read relative to the spec's directory ({specDirectory}).");
        var configuration = spec["configuration"] switch
        {
            null => new JsonObject(),
            JsonObject given => given.DeepClone().AsObject(),
            var other => throw new ExperimentConfigException($"configuration must be a JSON object of settings laid over the defaults, got {other.ToJsonString()}."),
        };
        return new SweepSpec(
            name,
            experiment,
            configFile,
            configuration,
            ParseGrid(spec["grid"]),
            ParseRandom(spec["random"]),
            spec["seeds"] is { } seeds ? SeedList.Parse(seeds) : null,
            ParseMaxParallel(spec["maxParallel"]),
            ParseSlurm(spec["slurm"]),
            OptionalString(spec, "out"),
            specPath,
            ParseVariants(spec["variants"]));
    }

    /// <summary>
    /// "variants": { "name": { "dotted.path": value, ... }, ... }: configurations that differ in several settings
    /// at once (a distribution together with its learning rate, say), named for the report.
    /// </summary>
    private static List<SweepVariant> ParseVariants(JsonNode? node)
    {
        if (node is null)
            return [];
        if (node is not JsonObject variants || variants.Count == 0)
            throw new ExperimentConfigException($"variants must be a non-empty object of names to settings, such as {{\"squashed\": {{\"ppo.distribution\": \"squashed-gaussian\"}}}}, got {node.ToJsonString()}.");
        var parsed = new List<SweepVariant>();
        foreach (var (name, settings) in variants)
        {
            if (!Regex.IsMatch(name, "^[A-Za-z0-9._-]{1,60}$"))
                throw new ExperimentConfigException($"variant name '{name}' may only hold letters, digits, '.', '_' and '-' (at most 60), since reports and labels show it.");
            if (settings is not JsonObject bundle)
                throw new ExperimentConfigException($"variant '{name}' must be an object of dotted setting paths to values ({{}} for the base configuration), got {Show(settings)}.");
            parsed.Add(new SweepVariant(name, bundle.Select(p => (p.Key, p.Value?.DeepClone())).ToList()));
        }
        return parsed;
    }

    /// <summary>A --parallel or maxParallel value: a whole number of workers.</summary>
    public static int CheckWorkers(long value, string what) => value is >= 1 and <= MaxWorkers
        ? (int)value
        : throw new ExperimentConfigException($"{what} must be a whole number from 1 to {MaxWorkers}, got {value}.");

    private static List<GridAxis> ParseGrid(JsonNode? node)
    {
        if (node is null)
            return [];
        if (node is not JsonObject grid)
            throw new ExperimentConfigException($"grid must be an object of dotted setting paths to lists of values, got {node.ToJsonString()}.");
        var axes = new List<GridAxis>();
        foreach (var (path, values) in grid)
        {
            if (values is not JsonArray list)
                throw new ExperimentConfigException($"grid '{path}' must be a list of values, got {Show(values)}.");
            if (list.Count == 0)
                throw new ExperimentConfigException($"grid '{path}' is an empty list; give at least one value.");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var value in list)
            {
                if (!seen.Add(Show(value)))
                    throw new ExperimentConfigException($"grid '{path}' lists {Show(value)} twice.");
            }
            axes.Add(new GridAxis(path, list.Select(v => v?.DeepClone()).ToList()));
        }
        return axes;
    }

    private static RandomSearch? ParseRandom(JsonNode? node)
    {
        if (node is null)
            return null;
        if (node is not JsonObject random)
            throw new ExperimentConfigException($"random must be an object with samples, seed and settings, got {node.ToJsonString()}.");
        RejectUnknown(random, RandomFields, "field", "random");
        var samples = random["samples"] is { } s
            ? WholeNumber(s, "random.samples", 1, RandomSearch.MaxSamples)
            : throw new ExperimentConfigException("random needs \"samples\": how many random configurations to draw.");
        var seed = random["seed"] is { } seedNode ? WholeNumber(seedNode, "random.seed", 0, long.MaxValue) : 0;
        if (random["settings"] is not JsonObject settings)
            throw new ExperimentConfigException($"random.settings must be an object of dotted setting paths to distributions, got {Show(random["settings"])}.");
        if (settings.Count == 0)
            throw new ExperimentConfigException("random.settings is empty; name at least one setting to sample.");
        var parsed = settings.Select(p => new RandomSetting(p.Key, SettingDistribution.Parse(p.Key, p.Value))).ToList();
        return new RandomSearch((int)samples, seed, parsed);
    }

    private static int? ParseMaxParallel(JsonNode? node) =>
        node is null ? null : CheckWorkers(WholeNumber(node, "maxParallel", long.MinValue, long.MaxValue), "maxParallel");

    private static SlurmSettings ParseSlurm(JsonNode? node)
    {
        var defaults = new SlurmSettings();
        if (node is null)
            return defaults;
        if (node is not JsonObject slurm)
            throw new ExperimentConfigException($"slurm must be an object ({string.Join(", ", SlurmFields)}), got {node.ToJsonString()}.");
        RejectUnknown(slurm, SlurmFields, "field", "slurm");
        var extra = slurm["extraArguments"] switch
        {
            null => [],
            JsonArray list when list.All(a => a is JsonValue v && v.GetValueKind() == JsonValueKind.String) => list.Select(a => a!.GetValue<string>()).ToList(),
            var other => throw new ExperimentConfigException($"slurm.extraArguments must be a list of strings such as [\"--account=rl\"], got {other.ToJsonString()}."),
        };
        return SlurmOptions(
            slurm["cpusPerTask"] is { } cpus ? WholeNumber(cpus, "slurm.cpusPerTask", 1, 1024) : defaults.CpusPerTask,
            OptionalString(slurm, "mem", "slurm.") ?? defaults.Mem,
            OptionalString(slurm, "time", "slurm.") ?? defaults.Time,
            OptionalString(slurm, "partition", "slurm.") ?? defaults.Partition,
            extra);
    }

    /// <summary>Slurm settings with sbatch's notation checked; the command-line options go through here too.</summary>
    public static SlurmSettings SlurmOptions(long cpusPerTask, string mem, string time, string? partition, IReadOnlyList<string> extraArguments)
    {
        if (cpusPerTask is < 1 or > 1024)
            throw new ExperimentConfigException($"slurm cpusPerTask must be a whole number from 1 to 1024, got {cpusPerTask}.");
        if (!Regex.IsMatch(mem, "^[0-9]+[KMGT]?$"))
            throw new ExperimentConfigException($"slurm mem '{mem}' is not in sbatch's notation; write megabytes or a number with K, M, G or T, such as 2G or 1500M.");
        if (!Regex.IsMatch(time, @"^([0-9]+-)?[0-9]+(:[0-9]{1,2}){0,2}$"))
            throw new ExperimentConfigException($"slurm time '{time}' is not in sbatch's notation; write minutes, hours:minutes:seconds or days-hours:minutes:seconds, such as 01:00:00.");
        if (partition is not null && !Regex.IsMatch(partition, "^[A-Za-z0-9._,-]+$"))
            throw new ExperimentConfigException($"slurm partition '{partition}' is not a partition name.");
        return new SlurmSettings { CpusPerTask = (int)cpusPerTask, Mem = mem, Time = time, Partition = partition, ExtraArguments = extraArguments.ToList() };
    }

    internal static long WholeNumber(JsonNode node, string what, long min, long max)
    {
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && long.TryParse(value.ToJsonString(), out var n))
        {
            if (n < min || n > max)
                throw new ExperimentConfigException($"{what} must be a whole number from {min:N0} to {max:N0}, got {n}.");
            return n;
        }
        throw new ExperimentConfigException($"{what} must be a whole number, got {node.ToJsonString()}.");
    }

    private static string? OptionalString(JsonObject node, string field, string prefix = "")
    {
        var value = node[field];
        if (value is null)
            return null;
        if (value is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() is { Length: > 0 } text)
            return text;
        throw new ExperimentConfigException($"{prefix}{field} must be a non-empty string, got {value.ToJsonString()}.");
    }

    private static void RejectUnknown(JsonObject node, string[] allowed, string what, string where)
    {
        foreach (var (name, _) in node)
        {
            if (allowed.Contains(name, StringComparer.Ordinal))
                continue;
            var closest = ConfigPaths.Closest(name, allowed);
            throw new ExperimentConfigException($"unknown {what} '{name}' in {where}; did you mean '{closest}'?");
        }
    }

    /// <summary>A value as a reader sees it in a message or a label: JSON, with strings unquoted.</summary>
    public static string Show(JsonNode? value) => value switch
    {
        null => "null",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => value.ToJsonString(),
    };

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut < 0 ? message : message[..(cut + 1)];
    }
}

/// <summary>A named bundle of settings (dotted path and value), in the spec's order.</summary>
public sealed record SweepVariant(string Name, IReadOnlyList<(string Path, JsonNode? Value)> Settings);

/// <summary>One grid dimension: a dotted setting path and the values it takes, in the spec's order.</summary>
public sealed record GridAxis(string Path, IReadOnlyList<JsonNode?> Values);

/// <summary>Random search: <see cref="Samples"/> draws of every setting, from a generator seeded by <see cref="Seed"/>.</summary>
public sealed record RandomSearch(int Samples, long Seed, IReadOnlyList<RandomSetting> Settings)
{
    public const int MaxSamples = 10_000;
}

public sealed record RandomSetting(string Path, SettingDistribution Distribution);
