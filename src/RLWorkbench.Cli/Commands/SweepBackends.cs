using RLWorkbench.Experiments.Sweeps;

namespace RLWorkbench.Cli.Commands;

/// <summary>The one place a sweep's backend is chosen by name (`--backend`).</summary>
internal static class SweepBackends
{
    public const string Local = "local";
    public const string Slurm = "slurm";

    public static readonly string[] Names = [Local, Slurm];

    /// <summary>Refuses an unknown or unavailable backend before anything is written.</summary>
    public static void Check(string name)
    {
        if (!Names.Contains(name, StringComparer.Ordinal))
            throw new UsageException($"unknown backend '{name}'; allowed: {string.Join(", ", Names)}.");
        if (name == Slurm)
            throw new UsageException("--backend slurm is not part of this build yet; use --backend local.");
    }

    /// <param name="kill">A second Ctrl+C: end the workers at once.</param>
    public static ISweepBackend Create(string name, SweepManifest manifest, CancellationToken kill) => name switch
    {
        Local => new LocalSweepBackend(manifest.MaxParallel ?? LocalSweepBackend.DefaultWorkers, kill: kill),
        _ => throw new UsageException($"unknown backend '{name}'; allowed: {string.Join(", ", Names)}."),
    };
}
