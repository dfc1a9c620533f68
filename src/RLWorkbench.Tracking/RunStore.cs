using System.Reflection;
using System.Text.Json;

namespace RLWorkbench.Tracking;

/// <summary>
/// The local home of all runs: one directory per run under a root (by default artifacts/runs).
/// </summary>
public sealed class RunStore(string root)
{
    internal const string StatusFile = "status.json";

    public static string DefaultRoot => Path.Combine("artifacts", "runs");

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>Starts a new run named kind-yyyyMMdd-HHmmss (with a suffix if that exists).</summary>
    public Run Create(string kind, IReadOnlyDictionary<string, string>? versions = null, DateTimeOffset? now = null)
    {
        var started = now ?? DateTimeOffset.UtcNow;
        var baseId = $"{kind}-{started:yyyyMMdd-HHmmss}";
        var id = baseId;
        for (var n = 2; Directory.Exists(Path.Combine(Root, id)); n++)
            id = $"{baseId}-{n}";
        return CreateAt(Path.Combine(Root, id), kind, versions, started);
    }

    /// <summary>Starts a new run in a directory the user chose; refuses one that already holds a run.</summary>
    public static Run CreateAt(string directory, string kind, IReadOnlyDictionary<string, string>? versions = null, DateTimeOffset? now = null)
    {
        var full = Path.GetFullPath(directory);
        if (File.Exists(Path.Combine(full, StatusFile)))
            throw new IOException($"{full} already holds a run; choose another --out or resume it.");
        Directory.CreateDirectory(full);
        var info = new RunInfo(
            Path.GetFileName(full),
            kind,
            RunStatus.Running,
            now ?? DateTimeOffset.UtcNow,
            null,
            null,
            new Dictionary<string, string>(),
            versions ?? DefaultVersions());
        var run = new Run(full, info);
        run.SaveInfo();
        return run;
    }

    /// <summary>Reopens an existing run to continue it (resume) or add to it.</summary>
    public static Run Open(string directory)
    {
        var full = Path.GetFullPath(directory);
        var statusPath = Path.Combine(full, StatusFile);
        if (!File.Exists(statusPath))
            throw new FileNotFoundException($"{full} is not a run directory (it has no {StatusFile}).", statusPath);
        var info = JsonSerializer.Deserialize<RunInfo>(File.ReadAllText(statusPath), Run.Json)
            ?? throw new InvalidDataException($"{statusPath} is empty.");
        return new Run(full, info);
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

    /// <summary>The versions every run records: the workbench, .NET, and the OS.</summary>
    public static Dictionary<string, string> DefaultVersions() => new()
    {
        ["workbench"] = typeof(RunStore).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown",
        ["dotnet"] = Environment.Version.ToString(),
        ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
    };
}
