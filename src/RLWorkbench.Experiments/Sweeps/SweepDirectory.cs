using System.Text.Json.Nodes;

namespace RLWorkbench.Experiments.Sweeps;

/// <summary>Another runner holds the sweep directory: one sentence for the user (exit code 1).</summary>
public sealed class SweepInUseException(string message) : Exception(message);

/// <summary>
/// A sweep directory held by this process: sweep.lock is open exclusively (an advisory flock on Linux, let
/// go by the kernel however the process ends, so a crashed runner never leaves a stale lock), and
/// sweep.json holds this sweep. A second runner into the same directory, or a different sweep into it,
/// is refused before anything is written.
/// </summary>
public sealed class SweepDirectory : IDisposable
{
    private readonly FileStream lockStream;

    private SweepDirectory(string path, SweepManifest manifest, FileStream lockStream, bool resumed)
    {
        Path = path;
        Manifest = manifest;
        this.lockStream = lockStream;
        Resumed = resumed;
    }

    public string Path { get; }

    public SweepManifest Manifest { get; }

    /// <summary>Whether the directory already held this sweep (a rerun).</summary>
    public bool Resumed { get; }

    /// <summary>
    /// Creates or reopens the sweep directory for <paramref name="planned"/>. A directory that holds the same
    /// sweep (same experiment, base configuration and trials) is resumed, keeping its creation time; the
    /// worker count and Slurm settings may differ between runs, since they do not change a trial's numbers.
    /// </summary>
    public static SweepDirectory Open(string directory, SweepManifest planned)
    {
        var full = System.IO.Path.GetFullPath(directory);
        var manifestPath = System.IO.Path.Combine(full, SweepManifest.FileName);
        if (Directory.Exists(full) && !File.Exists(manifestPath) && Directory.EnumerateFileSystemEntries(full).Any(e => System.IO.Path.GetFileName(e) != SweepLayout.LockFile))
            throw new ExperimentConfigException($"'{full}' already exists and is not a sweep directory; choose another --out.");
        Directory.CreateDirectory(full);
        var held = TakeLock(full);
        try
        {
            var resumed = false;
            var manifest = planned;
            if (File.Exists(manifestPath))
            {
                var existing = SweepManifest.Load(full);
                if (Difference(existing, planned) is { } difference)
                    throw new ExperimentConfigException($"'{full}' already holds a different sweep ('{existing.Name}': {difference}); choose another --out, or delete that directory to start over.");
                manifest = planned with { CreatedUtc = existing.CreatedUtc };
                resumed = true;
            }
            manifest.Save(full);
            return new SweepDirectory(full, manifest, held, resumed);
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    private static FileStream TakeLock(string directory)
    {
        try
        {
            return new FileStream(System.IO.Path.Combine(directory, SweepLayout.LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new SweepInUseException($"the sweep directory '{directory}' is in use by another sweep runner (it holds {SweepLayout.LockFile}); wait for that one to end, or choose another --out.");
        }
    }

    /// <summary>What makes two manifests different sweeps, or null when they are the same sweep.</summary>
    public static string? Difference(SweepManifest existing, SweepManifest planned)
    {
        if (!string.Equals(existing.Name, planned.Name, StringComparison.Ordinal))
            return $"this one is named '{planned.Name}'";
        if (!string.Equals(existing.Experiment, planned.Experiment, StringComparison.Ordinal))
            return $"a {existing.Experiment} sweep, this one is {planned.Experiment}";
        if (!JsonNode.DeepEquals(existing.BaseConfiguration, planned.BaseConfiguration))
            return "another base configuration";
        if (existing.Trials.Count != planned.Trials.Count)
            return $"{existing.Trials.Count} trials, this one has {planned.Trials.Count}";
        foreach (var (old, now) in existing.Trials.Zip(planned.Trials))
        {
            if (old.Id != now.Id || old.Directory != now.Directory || old.Seed != now.Seed || !JsonNode.DeepEquals(old.Configuration, now.Configuration))
                return $"its trial {old.Index} is {old.Id} with another configuration";
        }
        return null;
    }

    public void Dispose() => lockStream.Dispose();
}
