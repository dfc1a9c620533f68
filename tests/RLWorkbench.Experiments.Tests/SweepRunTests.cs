using System.Text.Json;
using RLWorkbench.Experiments.Sweeps;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Tests;

/// <summary>The sweep directory, resuming, the worker and the monitor, on the toy kind in this process.</summary>
public class SweepRunTests
{
    private const string TwoRates = """
        { "name": "toy-rates", "experiment": "toy", "configuration": { "steps": 20 },
          "grid": { "train.learningRate": [0.001, 0.002] }, "seeds": "3" }
        """;

    private static string NewDirectory() => Path.Combine(Path.GetTempPath(), "rlw-tests", Guid.NewGuid().ToString("N"), "sweep");

    private static SweepWorker Worker() => new(ToyKind.Catalog, TimeProvider.System);

    [Fact]
    public void A_second_runner_into_the_same_directory_is_refused_while_the_first_holds_it()
    {
        var directory = NewDirectory();
        var manifest = SweepPlannerTests.Plan(TwoRates);
        using (var first = SweepDirectory.Open(directory, manifest))
        {
            Assert.False(first.Resumed);
            var e = Assert.Throws<SweepInUseException>(() => SweepDirectory.Open(directory, manifest));
            Assert.Equal($"the sweep directory '{directory}' is in use by another sweep runner (it holds sweep.lock); wait for that one to end, or choose another --out.", e.Message);
        }
        using var again = SweepDirectory.Open(directory, SweepPlannerTests.Plan(TwoRates));
        Assert.True(again.Resumed);
        Assert.Equal(manifest.CreatedUtc, again.Manifest.CreatedUtc);
    }

    [Fact]
    public void A_different_sweep_into_an_existing_sweep_directory_is_refused_and_changes_nothing()
    {
        var directory = NewDirectory();
        using (SweepDirectory.Open(directory, SweepPlannerTests.Plan(TwoRates)))
        {
        }
        var before = File.ReadAllText(Path.Combine(directory, "sweep.json"));
        var e = Assert.Throws<ExperimentConfigException>(() => SweepDirectory.Open(directory, SweepPlannerTests.Plan(TwoRates.Replace("0.002", "0.003"))));
        Assert.Equal($"'{directory}' already holds a different sweep ('toy-rates': its trial 1 is c01-seed3 with another configuration); choose another --out, or delete that directory to start over.", e.Message);
        e = Assert.Throws<ExperimentConfigException>(() => SweepDirectory.Open(directory, SweepPlannerTests.Plan(TwoRates.Replace("\"3\"", "\"3-4\""))));
        Assert.Equal($"'{directory}' already holds a different sweep ('toy-rates': 2 trials, this one has 4); choose another --out, or delete that directory to start over.", e.Message);
        Assert.Equal(before, File.ReadAllText(Path.Combine(directory, "sweep.json")));

        var notASweep = NewDirectory();
        Directory.CreateDirectory(notASweep);
        File.WriteAllText(Path.Combine(notASweep, "notes.txt"), "mine");
        e = Assert.Throws<ExperimentConfigException>(() => SweepDirectory.Open(notASweep, SweepPlannerTests.Plan(TwoRates)));
        Assert.Equal($"'{notASweep}' already exists and is not a sweep directory; choose another --out.", e.Message);
        Assert.Equal(["notes.txt"], Directory.EnumerateFileSystemEntries(notASweep).Select(Path.GetFileName));
    }

    [Fact]
    public void Trials_are_classified_for_a_rerun_from_their_run_directories()
    {
        var directory = NewDirectory();
        var manifest = SweepPlannerTests.Plan("""{ "experiment": "toy", "grid": { "steps": [1, 2, 3, 4, 5] } }""");
        using var sweep = SweepDirectory.Open(directory, manifest);
        string Trial(int i) => SweepLayout.TrialDirectory(directory, manifest.Trials[i]);
        void Make(int i, RunStatus status, bool checkpoint)
        {
            using var run = RunStore.CreateAt(Trial(i), "toy");
            if (checkpoint)
                File.WriteAllText(run.ArtifactPath("checkpoint.json"), "1");
            run.Finish(status);
        }
        Make(0, RunStatus.Finished, checkpoint: true);
        Make(1, RunStatus.Failed, checkpoint: false);
        Make(2, RunStatus.Killed, checkpoint: true);
        // Trial 3's worker died mid-run: status.json still says running, with a checkpoint.
        Directory.CreateDirectory(Path.Combine(Trial(3), "artifacts"));
        File.WriteAllText(Path.Combine(Trial(3), "status.json"), File.ReadAllText(Path.Combine(Trial(1), "status.json")).Replace("\"failed\"", "\"running\""));
        File.WriteAllText(Path.Combine(Trial(3), "artifacts", "checkpoint.bin"), "x");
        // Trial 4 never started.

        Assert.Equal(
            [TrialStart.Skip, TrialStart.Restart, TrialStart.Continue, TrialStart.Continue, TrialStart.Start],
            SweepRunner.Classify(manifest, directory).Select(p => p.Start));
        var runner = new SweepRunner(sweep, TimeProvider.System);
        Assert.Equal([1, 2, 3, 4], runner.ToRun.Select(t => t.Index));
        Assert.Equal("5 trials: 1 finished earlier (skipped), 2 continue from their checkpoints, 1 start again (no checkpoint), 1 start.", runner.Describe());
    }

    [Fact]
    public async Task The_worker_runs_a_trial_into_an_ordinary_tagged_run_and_leaves_it_alone_once_finished()
    {
        var directory = NewDirectory();
        var manifest = SweepPlannerTests.Plan(TwoRates);
        using (SweepDirectory.Open(directory, manifest))
        {
        }
        var log = new StringWriter();
        Assert.Equal(ExperimentOutcome.Finished, await Worker().RunAsync(directory, 1, log, CancellationToken.None));

        var trialDirectory = Path.Combine(directory, "trials", "c01-seed3");
        var record = RunReader.Read(trialDirectory);
        Assert.Equal(RunStatus.Finished, record.Info.Status);
        Assert.Equal("toy", record.Kind);
        Assert.Equal(
            new Dictionary<string, string> { ["sweep.name"] = "toy-rates", ["sweep.trial"] = "c01-seed3", ["sweep.configuration"] = "c01", ["sweep.label"] = "train.learningRate=0.002", ["sweep.seed"] = "3" },
            record.Info.Tags);
        Assert.Equal(20, record.RequireTable("curve").RowCount);
        Assert.Equal("0.002", record.Config!["train"]!["learningRate"]!.ToJsonString());
        var scores = SweepResults.ReadScores(trialDirectory)!;
        Assert.Equal(1000 * 0.002 + 3, scores.Final);
        var progress = TrialProgressWriter.Read(trialDirectory)!;
        Assert.Equal((20L, 20L, "steps"), (progress.Done, progress.Total, progress.Unit));
        Assert.Contains("Sweep toy-rates, trial c01-seed3 (2 of 2): toy, train.learningRate=0.002, seed 3.", log.ToString());
        Assert.Contains("Finished: toy score 5 after 20 steps.", log.ToString());

        var again = new StringWriter();
        Assert.Equal(ExperimentOutcome.Finished, await Worker().RunAsync(directory, 1, again, CancellationToken.None));
        Assert.Contains("Already finished; nothing to do.", again.ToString());
        Assert.Equal(20, RunReader.Read(trialDirectory).RequireTable("curve").RowCount);
    }

    [Fact]
    public async Task A_stopped_trial_continues_from_its_checkpoint_and_its_curve_joins_up()
    {
        var directory = NewDirectory();
        var manifest = SweepPlannerTests.Plan("""{ "name": "pause", "experiment": "toy", "configuration": { "steps": 30, "pauseAtStep": 12 } }""");
        using (SweepDirectory.Open(directory, manifest))
        {
        }
        var trialDirectory = SweepLayout.TrialDirectory(directory, manifest.Trials[0]);
        using var stop = new CancellationTokenSource();
        // On its own thread: the toy experiment blocks its caller while it waits at the pause step.
        var running = Task.Run(() => Worker().RunAsync(directory, 0, new StringWriter(), stop.Token));
        while (TrialProgressWriter.Read(trialDirectory) is null && !running.IsCompleted)
            await Task.Delay(10);
        stop.Cancel();
        Assert.Equal(ExperimentOutcome.Stopped, await running);
        Assert.Equal(TrialState.Killed, TrialRecords.StateOf(trialDirectory));
        Assert.Equal(TrialStart.Continue, TrialResume.Classify(trialDirectory));
        Assert.Equal(12, RunReader.Read(trialDirectory).RequireTable("curve").RowCount);

        var log = new StringWriter();
        Assert.Equal(ExperimentOutcome.Finished, await Worker().RunAsync(directory, 0, log, CancellationToken.None));
        Assert.Contains("Continuing from the checkpoint of the earlier attempt.", log.ToString());
        Assert.Equal(Enumerable.Range(1, 30).Select(i => (double)i), RunReader.Read(trialDirectory).RequireTable("curve").Numbers("step"));
        Assert.Equal(TrialState.Finished, TrialRecords.StateOf(trialDirectory));
    }

    [Fact]
    public async Task A_trial_failing_at_run_time_is_marked_failed_and_a_rerun_starts_it_again_keeping_its_log()
    {
        var directory = NewDirectory();
        var manifest = SweepPlannerTests.Plan("""{ "name": "faulty", "experiment": "toy", "configuration": { "steps": 10, "failAtStep": 4 } }""");
        using (SweepDirectory.Open(directory, manifest))
        {
        }
        var trialDirectory = SweepLayout.TrialDirectory(directory, manifest.Trials[0]);
        var log = new StringWriter();
        Assert.Equal(ExperimentOutcome.Failed, await Worker().RunAsync(directory, 0, log, CancellationToken.None));
        var info = RunReader.Read(trialDirectory).Info;
        Assert.Equal((RunStatus.Failed, "toy failure at step 4"), (info.Status, info.Message));
        Assert.Contains("Failed: toy failure at step 4", log.ToString());
        Assert.Equal(TrialStart.Restart, TrialResume.Classify(trialDirectory));

        File.WriteAllText(Path.Combine(trialDirectory, SweepLayout.TrialLog), "first attempt\n");
        TrialResume.ClearForRestart(trialDirectory);
        Assert.Equal(["trial.log", "worker.lock"], Directory.EnumerateFileSystemEntries(trialDirectory).Select(Path.GetFileName).Order());
        Assert.Equal("first attempt\n", File.ReadAllText(Path.Combine(trialDirectory, SweepLayout.TrialLog)));
    }

    [Fact]
    public void The_monitor_counts_trials_sums_rates_and_estimates_the_time_left()
    {
        var directory = NewDirectory();
        var manifest = SweepPlannerTests.Plan("""{ "name": "watch", "experiment": "toy", "grid": { "steps": [100, 101, 102, 103] } }""");
        using var sweep = SweepDirectory.Open(directory, manifest);
        string Trial(int i) => SweepLayout.TrialDirectory(directory, manifest.Trials[i]);
        void Progress(int i, long done, long total, double rate)
        {
            Directory.CreateDirectory(Trial(i));
            File.WriteAllText(Path.Combine(Trial(i), SweepLayout.ProgressFile), JsonSerializer.Serialize(new TrialProgress(done, total, "steps", rate, DateTimeOffset.UtcNow), SweepManifest.Json));
        }
        // Trial 0 finished in an earlier run; trial 3's worker died in an earlier run, leaving it "running".
        using (var done = RunStore.CreateAt(Trial(0), "toy"))
            done.Finish(RunStatus.Finished);
        Progress(0, 100, 100, 0);
        Directory.CreateDirectory(Trial(3));
        File.WriteAllText(Path.Combine(Trial(3), "status.json"), File.ReadAllText(Path.Combine(Trial(0), "status.json")).Replace("\"finished\"", "\"running\""));

        var runner = new SweepRunner(sweep, TimeProvider.System);
        var start = runner.Monitor.Snapshot();
        Assert.Equal((4, 1, 1, 0, 0, 0, 3), (start.Total, start.FinishedEarlier, start.Finished, start.Running, start.Failed, start.Stopped, start.Pending));
        Assert.Null(start.Eta);

        // Trials 1 and 2 start; 1 reports 40 of 100 steps at 10/s, 2 reports 0 of 100 at 30/s.
        var one = RunStore.CreateAt(Trial(1), "toy");
        var two = RunStore.CreateAt(Trial(2), "toy");
        Progress(1, 40, 100, 10);
        Progress(2, 0, 100, 30);
        var running = runner.Monitor.Snapshot();
        Assert.Equal((1, 2, 0, 1), (running.Finished, running.Running, running.Failed, running.Pending));
        Assert.Equal(40, running.UnitsPerSecond);
        // Left: 60 + 100 + trial 3's unknown total, taken as the mean of the totals seen (100): 260 steps at 40/s.
        Assert.Equal(TimeSpan.FromSeconds(6.5), running.Eta);
        Assert.Equal(["c01-seed0", "c02-seed0"], running.RunningTrials.Select(t => t.Trial.Id));
        Assert.Equal("steps=101", running.RunningTrials[0].Label);

        // Trial 3's new worker reports progress; its status.json still says "running", as the dead worker left it.
        Progress(3, 5, 100, 20);
        var rerunning = runner.Monitor.Snapshot();
        Assert.Equal((3, 0, 0), (rerunning.Running, rerunning.Failed, rerunning.Pending));
        Assert.Equal(60, rerunning.UnitsPerSecond);

        TrialRecords.MarkFailed(Trial(3), "toy", "the worker was killed (SIGKILL) without recording an end");
        one.Finish(RunStatus.Finished);
        two.Finish(RunStatus.Killed);
        var end = runner.Monitor.Snapshot();
        Assert.Equal((2, 0, 1, 1, 0), (end.Finished, end.Running, end.Failed, end.Stopped, end.Pending));
        one.Dispose();
        two.Dispose();
    }
}
