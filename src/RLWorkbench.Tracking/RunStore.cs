using System.Reflection;
using System.Text.Json;

namespace RLWorkbench.Tracking;

/// <summary>
/// The local home of all runs: one directory per run under a root (by default artifacts/runs).
/// </summary>
public sealed class RunStore(string root)
{
    public const string StatusFile = "status.json";

    public static string DefaultRoot => Path.Combine("artifacts", "runs");

    public string Root { get; } = Path.GetFullPath(root);

    private readonly Lazy<IRunMirror?> environmentMirror = new(() => Mlflow.MlflowMirror.FromEnvironment());
    private readonly IRunMirror? chosenMirror;
    private readonly bool mirrorChosen;

    /// <summary>
    /// Where new runs are mirrored besides their directory; null for none. Unless set, it is the MLflow
    /// server MLFLOW_TRACKING_URI names (read when the first run starts), so trainers need no code for it.
    /// </summary>
    public IRunMirror? Mirror
    {
        get => mirrorChosen ? chosenMirror : environmentMirror.Value;
        init
        {
            chosenMirror = value;
            mirrorChosen = true;
        }
    }

    /// <summary>Start and end times of runs come from here, so tests can fix them.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>
    /// Starts a new run named <paramref name="name"/>-yyyyMMdd-HHmmss (the name is the kind unless given, e.g.
    /// "qlearn-ucb1" for a qlearn run of a bandit), with a suffix if that exists or another process has just claimed it.
    /// </summary>
    public Run Create(string kind, IReadOnlyDictionary<string, string>? versions = null, DateTimeOffset? now = null, string? name = null)
    {
        var started = now ?? Clock.GetUtcNow();
        var baseId = $"{name ?? kind}-{started:yyyyMMdd-HHmmss}";
        for (var n = 1; ; n++)
        {
            var directory = Path.Combine(Root, n == 1 ? baseId : $"{baseId}-{n}");
            if (Directory.Exists(directory))
                continue;
            // Two processes started in the same second both see the name free; the claim lets one have it.
            var claim = RunLock.TryClaim(directory);
            if (claim is null)
                continue;
            if (!File.Exists(Path.Combine(directory, StatusFile)))
                return Start(directory, claim, kind, versions, started);
            claim.Dispose();
        }
    }

    /// <summary>
    /// Starts a new run in a directory the user chose; refuses one that already holds a run, and one that another
    /// process is writing (<see cref="RunInUseException"/>). The directory is claimed before anything is written.
    /// </summary>
    public static Run CreateAt(string directory, string kind, IReadOnlyDictionary<string, string>? versions = null, DateTimeOffset? now = null)
        => new RunStore(ParentOf(directory)).CreateIn(directory, kind, versions, now);

    /// <summary>Like <see cref="CreateAt"/>, with this store's mirror and clock.</summary>
    public Run CreateIn(string directory, string kind, IReadOnlyDictionary<string, string>? versions = null, DateTimeOffset? now = null)
    {
        var full = Path.GetFullPath(directory);
        RefuseFileInTheWay(full);
        var claim = RunLock.Claim(full);
        if (!File.Exists(Path.Combine(full, StatusFile)))
            return Start(full, claim, kind, versions, now ?? Clock.GetUtcNow());
        claim.Dispose();
        throw new IOException($"{full} already holds a run; choose another --out or resume it.");
    }

    /// <summary>A file where the run directory or one of its parents should be: named, rather than the system's "part of the path".</summary>
    private static void RefuseFileInTheWay(string full)
    {
        if (File.Exists(full))
            throw new IOException($"{full} is a file, not a run directory; choose another --out.");
        for (var parent = Path.GetDirectoryName(full); !string.IsNullOrEmpty(parent); parent = Path.GetDirectoryName(parent))
        {
            if (File.Exists(parent))
                throw new IOException($"{parent} is a file, so {full} cannot be a run directory; choose another --out.");
        }
    }

    private Run Start(string full, RunLock claim, string kind, IReadOnlyDictionary<string, string>? versions, DateTimeOffset started)
    {
        var info = new RunInfo(
            Path.GetFileName(full),
            kind,
            RunStatus.Running,
            started,
            null,
            null,
            new Dictionary<string, string>(),
            versions ?? DefaultVersions());
        return Claimed(claim, () =>
        {
            var run = new Run(full, info, claim, Mirror?.Start(info, full), Clock);
            run.SaveInfo();
            return run;
        });
    }

    /// <summary>Claims a directory that must already hold a run; one that does not is refused before anything is created in it.</summary>
    private static RunLock ClaimExisting(string full)
    {
        ReadInfo(full);
        return RunLock.Claim(full);
    }

    /// <summary>Hands a claim to the run <paramref name="open"/> makes; lets it go when that fails.</summary>
    private static Run Claimed(RunLock claim, Func<Run> open)
    {
        try
        {
            return open();
        }
        catch
        {
            claim.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reopens a run to continue it (resume), mirrored like a new one (the mirror picks up where it stopped).
    /// Refuses a run another process is still writing (<see cref="RunInUseException"/>); one whose process died
    /// left no claim behind and reopens.
    /// </summary>
    public Run Reopen(string directory) => Reopen(directory, underClaim: null);

    /// <summary>
    /// <see cref="Reopen"/> after <see cref="DropRowsAfter"/>, both under the run's claim: a second resume of a run
    /// that is going cannot cut the rows the first one is writing, and the mirror starts after the cut, so MLflow
    /// is sent the repeated rows again.
    /// </summary>
    public Run ReopenAfterStep(string directory, long step, params string[] tables) =>
        Reopen(directory, full => DropRowsAfter(full, step, tables));

    /// <summary>Claims the run, does <paramref name="underClaim"/> to its directory, then opens it with the mirror.</summary>
    private Run Reopen(string directory, Action<string>? underClaim)
    {
        var full = Path.GetFullPath(directory);
        var claim = ClaimExisting(full);
        return Claimed(claim, () =>
        {
            var info = ReadInfo(full);
            underClaim?.Invoke(full);
            return new Run(full, info, claim, Mirror?.Start(info, full), Clock);
        });
    }

    /// <summary>
    /// Drops the rows logged after <paramref name="step"/> from a run's tables (by each table's step,
    /// iteration or episode column) before the run is reopened: a resumed run repeats the steps after its
    /// checkpoint, and its curve should join the original rather than overlap it. What the MLflow record
    /// counts as sent is lowered to match, so the mirror sends the repeated rows again.
    /// </summary>
    public static void DropRowsAfter(string directory, long step, params string[] tables)
    {
        var full = Path.GetFullPath(directory);
        var state = Mlflow.MlflowSyncState.TryRead(full);
        foreach (var name in tables)
        {
            var path = Path.Combine(full, name + ".csv");
            if (!File.Exists(path))
                continue;
            var lines = File.ReadAllLines(path);
            if (lines.Length == 0)
                continue;
            var stepColumn = Array.FindIndex(lines[0].Split(','), c => RunTable.StepColumns.Contains(c));
            if (stepColumn < 0)
                throw new RunFormatException($"{path} has no step, iteration or episode column to cut at.");
            var kept = lines.Skip(1).TakeWhile(line =>
            {
                var fields = line.Split(',');
                return stepColumn >= fields.Length
                    || !double.TryParse(fields[stepColumn], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var s)
                    || s <= step;
            }).ToList();
            if (kept.Count == lines.Length - 1)
                continue;
            AtomicFile.WriteAllText(path, string.Join('\n', lines.Take(1).Concat(kept)) + "\n");
            if (state is not null && state.RowsSent.TryGetValue(name, out var sent) && sent > kept.Count)
                state.RowsSent[name] = kept.Count;
        }
        state?.Save(full);
    }

    /// <summary>
    /// Reopens an existing run to continue it (resume) or add to it: <see cref="Reopen"/> with the mirror
    /// MLFLOW_TRACKING_URI names, as <see cref="CreateAt"/> starts one, so a resumed run keeps mirroring.
    /// </summary>
    public static Run Open(string directory) => new RunStore(ParentOf(directory)).Reopen(directory);

    private static string ParentOf(string directory) => Path.GetDirectoryName(Path.GetFullPath(directory)) ?? ".";

    internal static RunInfo ReadInfo(string fullDirectory)
    {
        var statusPath = Path.Combine(fullDirectory, StatusFile);
        if (!File.Exists(statusPath))
            throw new FileNotFoundException($"{fullDirectory} is not a run directory (it has no {StatusFile}).", statusPath);
        return JsonSerializer.Deserialize<RunInfo>(File.ReadAllText(statusPath), Run.Json)
            ?? throw new InvalidDataException($"{statusPath} is empty.");
    }

    /// <summary>Finds a run by directory path or by id under this store.</summary>
    public string Resolve(string runOrPath)
    {
        if (File.Exists(Path.Combine(runOrPath, StatusFile)))
            return Path.GetFullPath(runOrPath);
        var underRoot = Path.Combine(Root, runOrPath);
        if (File.Exists(Path.Combine(underRoot, StatusFile)))
            return underRoot;
        throw new DirectoryNotFoundException($"No run '{runOrPath}': give a run directory or the id of a run under {Root}.");
    }

    public IEnumerable<RunInfo> List()
    {
        if (!Directory.Exists(Root))
            yield break;
        foreach (var dir in Directory.EnumerateDirectories(Root).Order(StringComparer.Ordinal))
        {
            var statusPath = Path.Combine(dir, StatusFile);
            if (File.Exists(statusPath))
                yield return JsonSerializer.Deserialize<RunInfo>(File.ReadAllText(statusPath), Run.Json)!;
        }
    }

    /// <summary>
    /// The versions every run records plus TorchSharp's, given by a caller that has it (Tracking does not
    /// reference TorchSharp, so it cannot ask).
    /// </summary>
    public static Dictionary<string, string> DefaultVersions(string? torchSharpVersion)
    {
        var versions = DefaultVersions();
        if (!string.IsNullOrWhiteSpace(torchSharpVersion))
            versions["torchsharp"] = torchSharpVersion;
        return versions;
    }

    /// <summary>The versions every run records: the workbench, .NET, and the OS.</summary>
    public static Dictionary<string, string> DefaultVersions() => new()
    {
        ["workbench"] = typeof(RunStore).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown",
        ["dotnet"] = Environment.Version.ToString(),
        ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
    };
}
