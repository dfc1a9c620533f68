using RLWorkbench.Experiments;
using RLWorkbench.Experiments.Sweeps;
using RLWorkbench.Experiments.Sweeps.Slurm;

namespace RLWorkbench.Cli.Commands;

/// <summary>The one place a sweep's backend is chosen by name (`--backend`).</summary>
internal static class SweepBackends
{
    public const string Local = "local";
    public const string Slurm = "slurm";

    public static readonly string[] Names = [Local, Slurm];

    /// <summary>
    /// Refuses an unknown or unavailable backend before anything is written: for slurm, missing tools are a usage
    /// error (exit 2) and a controller that does not answer a failure (exit 1), each one sentence.
    /// </summary>
    public static void Check(string name)
    {
        if (!Names.Contains(name, StringComparer.Ordinal))
            throw new UsageException($"unknown backend '{name}'; allowed: {string.Join(", ", Names)}.");
        if (name == Slurm)
        {
            try
            {
                new SlurmClient().EnsureAvailableAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
            catch (ExperimentConfigException e)
            {
                throw new UsageException(e.Message);
            }
        }
    }

    /// <param name="kill">A second Ctrl+C: end the workers at once (local workers; Slurm jobs are the scheduler's).</param>
    public static ISweepBackend Create(string name, SweepManifest manifest, CancellationToken kill) => name switch
    {
        Local => new LocalSweepBackend(manifest.MaxParallel ?? LocalSweepBackend.DefaultWorkers, kill: kill),
        Slurm => new SlurmBackend(new SlurmClient(), TimeProvider.System),
        _ => throw new UsageException($"unknown backend '{name}'; allowed: {string.Join(", ", Names)}."),
    };

    /// <summary>
    /// The closing line when trials did not finish. After Ctrl+C a Slurm job goes on without us, so running the
    /// sweep again follows it rather than rerunning anything; locally (or once Slurm's tasks have ended) a rerun
    /// reruns the unfinished trials.
    /// </summary>
    public static string UnfinishedMessage(string name, int unfinished, bool stopped) => name == Slurm && stopped
        ? $"{unfinished} trial(s) had not finished when following stopped; their Slurm tasks go on: run the same command again to follow them (and rerun any that failed), or scancel the job."
        : $"{unfinished} trial(s) did not finish; run the same command again to rerun them (finished trials are kept).";

    /// <summary>What the user is told at the first Ctrl+C.</summary>
    public static string StopMessage(string name) => name == Slurm
        ? "Stopping: no longer following the Slurm job; its trials stay queued and running (the backend says how to follow or cancel them)."
        : "Stopping: every worker saves and stops; run the sweep again to continue (Ctrl+C again kills the workers).";
}
