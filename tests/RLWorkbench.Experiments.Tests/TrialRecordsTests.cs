using RLWorkbench.Experiments.Sweeps;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Tests;

public class TrialRecordsTests
{
    private static string NewTrial() => Path.Combine(Path.GetTempPath(), "rlw-tests", Guid.NewGuid().ToString("N"), "trials", "c00-s0");

    [Fact]
    public void Marking_failed_a_trial_that_a_live_process_still_holds_leaves_it_to_that_process()
    {
        var trial = NewTrial();
        using var live = new RunStore(Path.GetDirectoryName(trial)!) { Mirror = null }.CreateIn(trial, "toy");

        TrialRecords.MarkFailed(trial, "toy", "the worker ended without recording an end");

        Assert.Equal(TrialState.Running, TrialRecords.StateOf(trial));
        live.Finish(RunStatus.Finished);
        Assert.Equal(TrialState.Finished, TrialRecords.StateOf(trial));
    }

    [Fact]
    public void Marking_failed_a_trial_whose_worker_is_gone_records_the_message()
    {
        var trial = NewTrial();
        using (var run = new RunStore(Path.GetDirectoryName(trial)!) { Mirror = null }.CreateIn(trial, "toy"))
            run.MarkRunning();
        // Disposing a running run marks it failed itself; put it back to what a SIGKILLed worker leaves.
        File.WriteAllText(Path.Combine(trial, RunStore.StatusFile), File.ReadAllText(Path.Combine(trial, RunStore.StatusFile)).Replace("\"failed\"", "\"running\""));

        TrialRecords.MarkFailed(trial, "toy", "the worker was killed");

        var info = RunReader.ReadInfo(trial);
        Assert.Equal(RunStatus.Failed, info.Status);
        Assert.Equal("the worker was killed", info.Message);
    }
}
