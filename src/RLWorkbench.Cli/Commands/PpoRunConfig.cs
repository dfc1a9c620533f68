using System.Text.Json;
using System.Text.Json.Serialization;
using RLWorkbench.Ppo;
using RLWorkbench.Simulation;

namespace RLWorkbench.Cli.Commands;

/// <summary>Which Phase 1 environment a PPO run trains on (names as the command line spells them).</summary>
public sealed record PpoEnvironmentConfig
{
    public string Variant { get; init; } = "base";

    public string Layout { get; init; } = "seed67";

    public int Agents { get; init; } = 4;
}

/// <summary>
/// The whole resolved configuration of a `ppo` run: experiments/*.json binds to it, command-line
/// options override it, and it is printed at the start and saved as the run's config.json.
/// </summary>
public sealed record PpoRunConfig
{
    public long Steps { get; init; } = 50_000;

    public string Device { get; init; } = "auto";

    public PpoEnvironmentConfig Environment { get; init; } = new();

    public PpoOptions Ppo { get; init; } = new();

    public long EvalEverySteps { get; init; } = 5000;

    public int EvalEpisodes { get; init; } = 10;

    public long CheckpointEverySteps { get; init; } = 10_000;

    /// <summary>libtorch intra-op threads for the update; null means chosen by measuring, one thread or all cores (ComputeDevice.AutoThreads, docs/ppo.md).</summary>
    public int? Threads { get; init; }

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PropertyNameCaseInsensitive = true,
        WriteIndented = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Reads an experiment file; any problem becomes one sentence naming the file.</summary>
    public static PpoRunConfig Load(string path)
    {
        if (!File.Exists(path))
            throw new UsageException($"config file '{path}' does not exist; give a JSON file such as experiments/ppo-seed.json.");
        try
        {
            return JsonSerializer.Deserialize<PpoRunConfig>(File.ReadAllText(path), Json)
                ?? throw new UsageException($"config file '{path}' is empty; it needs a JSON object.");
        }
        catch (JsonException e)
        {
            var where = e.Path is { Length: > 0 } p ? $" at {p}" : "";
            throw new UsageException($"config file '{path}' is not valid for ppo{where}: {FirstSentence(e.Message)}");
        }
        catch (IOException e)
        {
            throw new UsageException($"config file '{path}' cannot be read: {e.Message}");
        }
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut < 0 ? message : message[..(cut + 1)];
    }

    public TaskEnvironmentOptions EnvironmentOptions() =>
        EnvironmentArguments.Build(Environment.Variant, Environment.Layout, Environment.Agents);

    /// <summary>Throws a <see cref="UsageException"/> naming the first bad value and what is allowed.</summary>
    public PpoRunConfig Validated()
    {
        if (Steps <= 0 || Steps > 10_000_000_000)
            throw new UsageException($"--steps must be between 1 and 10,000,000,000, got {Steps}.");
        if (!ComputeDevice.IsKnown(Device))
            throw new UsageException($"unknown device '{Device}'; allowed: {string.Join(", ", ComputeDevice.Choices)}.");
        if (EvalEverySteps < 0 || EvalEpisodes < 1 || EvalEpisodes > 10_000)
            throw new UsageException($"evaluation needs evalEverySteps >= 0 (0 turns it off) and evalEpisodes between 1 and 10,000, got {EvalEverySteps} and {EvalEpisodes}.");
        if (CheckpointEverySteps < 0)
            throw new UsageException($"checkpointEverySteps must be 0 (off) or positive, got {CheckpointEverySteps}.");
        if (Threads is { } t && (t < 1 || t > 256))
            throw new UsageException($"threads must be between 1 and 256, got {t}.");
        if (Ppo.Problem() is { } problem)
            throw new UsageException(problem);
        EnvironmentOptions();
        return this;
    }
}

/// <summary>Reading a saved PPO model from the command line, shared by eval and ppo --resume.</summary>
internal static class PpoModelFile
{
    /// <summary>Loads a checkpoint; a missing or unreadable file is a usage error with one sentence.</summary>
    public static PpoCheckpoint Load(string path, string missingMessage)
    {
        if (!File.Exists(path))
            throw new UsageException(missingMessage);
        try
        {
            return PpoCheckpoint.Load(path);
        }
        catch (InvalidDataException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>The nearest directory at or above the file's that holds <paramref name="marker"/>, or null.</summary>
    public static string? FindAbove(string path, string marker)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        while (dir is not null && !File.Exists(Path.Combine(dir, marker)))
            dir = Path.GetDirectoryName(dir);
        return dir;
    }
}

