namespace RLWorkbench.Experiments.Sweeps;

/// <summary>What a (re)run of a sweep does with one trial.</summary>
public enum TrialStart
{
    /// <summary>Finished earlier: left alone.</summary>
    Skip,

    /// <summary>Never started: a fresh run directory.</summary>
    Start,

    /// <summary>Stopped, failed or killed with a checkpoint saved: the same run continues from it.</summary>
    Continue,

    /// <summary>Stopped, failed or killed before any checkpoint: started again from nothing (its log is kept).</summary>
    Restart,
}

/// <summary>Classifies trials for a rerun from what their run directories hold.</summary>
public static class TrialResume
{
    public static TrialStart Classify(string trialDirectory) => TrialRecords.StateOf(trialDirectory) switch
    {
        TrialState.Finished => TrialStart.Skip,
        TrialState.NotStarted => TrialStart.Start,
        _ => HasCheckpoint(trialDirectory) ? TrialStart.Continue : TrialStart.Restart,
    };

    /// <summary>
    /// Whether the run saved a checkpoint to continue from. Every kind that can continue keeps it as
    /// artifacts/checkpoint.* (ppo: checkpoint.bin, qlearn: checkpoint.json); compare has none and starts over.
    /// </summary>
    public static bool HasCheckpoint(string trialDirectory)
    {
        var artifacts = Path.Combine(trialDirectory, "artifacts");
        return Directory.Exists(artifacts) && Directory.EnumerateFiles(artifacts, "checkpoint.*").Any(f => !f.Contains(".tmp-", StringComparison.Ordinal));
    }

    /// <summary>
    /// Empties a trial directory for a fresh start, keeping its log (every attempt's output stays readable)
    /// and the worker's lock, so the next run does not mix its rows with the rows of an attempt that died.
    /// </summary>
    public static void ClearForRestart(string trialDirectory)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(trialDirectory))
        {
            var name = Path.GetFileName(entry);
            if (name is SweepLayout.TrialLog or SweepLayout.WorkerLock)
                continue;
            if (Directory.Exists(entry))
                Directory.Delete(entry, recursive: true);
            else
                File.Delete(entry);
        }
    }
}
