using System.Globalization;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Sweeps;

/// <summary>
/// Runs one trial of a sweep in this process (`rlw sweep trial &lt;dir&gt; &lt;index&gt;`, whichever backend
/// started it): creates or reopens the trial's run directory, tags the run, runs the experiment with a
/// progress.json sink, and records how it ended. A trial that finished earlier is left alone.
/// </summary>
public sealed class SweepWorker(ExperimentCatalog catalog, TimeProvider clock)
{
    /// <param name="log">The worker's output; a backend sends it to the trial's trial.log.</param>
    /// <param name="cancel">Stops the trial cleanly (SIGINT, SIGTERM): it saves, so a rerun continues it.</param>
    public async Task<ExperimentOutcome> RunAsync(string sweepDirectory, int index, TextWriter log, CancellationToken cancel)
    {
        var manifest = SweepManifest.Load(sweepDirectory);
        var trial = manifest.Trial(index);
        var directory = SweepLayout.TrialDirectory(sweepDirectory, trial);
        Directory.CreateDirectory(directory);
        using var held = LockTrial(directory, trial);
        var start = TrialResume.Classify(directory);
        var configuration = manifest.Configurations.First(c => c.Key == trial.ConfigurationKey);
        log.WriteLine($"Sweep {manifest.Name}, trial {trial.Id} ({trial.Index + 1} of {manifest.Trials.Count}): {manifest.Experiment}, {configuration.Label}, seed {trial.Seed}.");
        if (start == TrialStart.Skip)
        {
            log.WriteLine("Already finished; nothing to do.");
            return ExperimentOutcome.Finished;
        }

        var kind = catalog.Get(manifest.Experiment);
        IExperiment experiment;
        try
        {
            experiment = kind.Create(trial.Configuration.DeepClone().AsObject());
        }
        catch (ExperimentConfigException e)
        {
            // The planner bound this configuration before the sweep began; this is a different build or an edited sweep.json.
            log.WriteLine($"error: {e.Message}");
            TrialRecords.MarkFailed(directory, kind.Name, e.Message);
            return ExperimentOutcome.Failed;
        }

        log.WriteLine(start switch
        {
            TrialStart.Continue => "Continuing from the checkpoint of the earlier attempt.",
            TrialStart.Restart => "Starting again: the earlier attempt ended before saving a checkpoint.",
            _ => "Starting.",
        });
        if (start == TrialStart.Restart)
            TrialResume.ClearForRestart(directory);
        File.Delete(Path.Combine(directory, SweepLayout.ProgressFile));

        // Through a store, so an MLflow server named in the environment mirrors the trial like any run.
        var store = new RunStore(Path.GetDirectoryName(directory)!) { Clock = clock };
        using var run = start == TrialStart.Continue ? store.Reopen(directory) : store.CreateIn(directory, kind.Name);
        if (start == TrialStart.Continue)
            run.MarkRunning();
        // The sweep, trial, configuration and seed, and the sweep's MLflow parent run when there is one.
        run.SetTags(SweepTracking.TrialTags(sweepDirectory, manifest, trial));

        var progress = new TrialProgressWriter(directory, log, clock);
        ExperimentOutcome outcome;
        string? message;
        RunScores? scores = null;
        try
        {
            var result = await experiment.RunAsync(run, progress, cancel);
            (outcome, message, scores) = (result.Outcome, result.Message, result.Scores);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            (outcome, message) = (ExperimentOutcome.Stopped, "stopped before the experiment could save");
        }
        catch (Exception e)
        {
            log.WriteLine(e.ToString());
            (outcome, message) = (ExperimentOutcome.Failed, e.Message);
        }
        progress.Flush();
        if (run.Status == RunStatus.Running)
        {
            run.Finish(outcome switch
            {
                ExperimentOutcome.Finished => RunStatus.Finished,
                ExperimentOutcome.Stopped => RunStatus.Killed,
                _ => RunStatus.Failed,
            }, message);
        }
        log.WriteLine(outcome switch
        {
            ExperimentOutcome.Finished => message ?? $"Finished: {Score(scores)}.",
            ExperimentOutcome.Stopped => "Stopped cleanly; running the sweep again continues this trial.",
            _ => $"Failed: {message ?? "no message"}",
        });
        return outcome;
    }

    private static string Score(RunScores? scores) => scores is { Final: { } final }
        ? $"{scores.ScoreName} {final.ToString("G4", CultureInfo.InvariantCulture)} after {scores.Work:N0} {scores.WorkUnit}"
        : "no final score";

    private static FileStream LockTrial(string directory, SweepTrial trial)
    {
        try
        {
            return new FileStream(Path.Combine(directory, SweepLayout.WorkerLock), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new SweepInUseException($"trial {trial.Id} is being run by another worker (it holds {SweepLayout.WorkerLock}); let that one end first.");
        }
    }
}
