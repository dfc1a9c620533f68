using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Sweeps;

/// <summary>How far a trial got, read from its run directory.</summary>
public enum TrialState
{
    /// <summary>No run directory yet.</summary>
    NotStarted,

    /// <summary>status.json says running: a worker is at it, or died without recording an end.</summary>
    Running,

    Finished,

    Failed,

    /// <summary>Stopped cleanly (Ctrl+C, SIGTERM, scancel): continues from its checkpoint.</summary>
    Killed,
}

/// <summary>Reads and records trial outcomes in their run directories (status.json, written through Tracking).</summary>
public static class TrialRecords
{
    public static TrialState StateOf(string trialDirectory) =>
        File.Exists(Path.Combine(trialDirectory, RunStore.StatusFile)) ? StateOf(RunReader.ReadInfo(trialDirectory).Status) : TrialState.NotStarted;

    /// <summary>The trial state a started run's recorded status means.</summary>
    public static TrialState StateOf(RunStatus status) => status switch
    {
        RunStatus.Finished => TrialState.Finished,
        RunStatus.Failed => TrialState.Failed,
        RunStatus.Killed => TrialState.Killed,
        _ => TrialState.Running,
    };

    /// <summary>
    /// Records that a trial's worker ended without finishing (a crash, SIGKILL, a lost node, the time limit),
    /// keeping whatever the run wrote. A trial that never created its directory gets one, so the sweep
    /// report counts it. A finished trial is left alone.
    /// </summary>
    public static void MarkFailed(string trialDirectory, string kind, string message)
    {
        var state = StateOf(trialDirectory);
        if (state == TrialState.Finished)
            return;
        Run run;
        try
        {
            run = state == TrialState.NotStarted
                ? RunStore.CreateAt(trialDirectory, kind)
                : RunStore.Open(trialDirectory);
        }
        catch (RunInUseException)
        {
            // A process still holds the trial (a Slurm task past its end, a node whose file lock has not expired yet):
            // it records its own end, or the lock goes with it and the run reads as stale.
            return;
        }
        using (run)
            run.Finish(RunStatus.Failed, message);
    }
}
