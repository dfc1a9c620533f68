using System.Globalization;

namespace RLWorkbench.Experiments.Sweeps.Slurm;

/// <summary>
/// Runs a sweep's trials as one sbatch job array (one array task per trial) and follows it with squeue until every
/// task has ended. A rerun submits only the trials not already queued or running in an earlier job of the sweep,
/// and follows those. Stopping (Ctrl+C) stops following only: the jobs stay with the scheduler, as a cluster user
/// expects of a batch job; `scancel` stops them, each trial at a checkpoint.
/// </summary>
public sealed class SlurmBackend : ISweepBackend
{
    private readonly SlurmClient client;
    private readonly TimeProvider clock;
    private readonly TimeSpan pollInterval;
    private readonly TimeSpan settleTime;
    private readonly TimeSpan queueOutage;
    private readonly IReadOnlyList<string>? workerCommand;

    /// <param name="client">The Slurm tools and the cluster they talk to.</param>
    /// <param name="clock">Paces polling.</param>
    /// <param name="pollInterval">How often squeue is asked (default 2 s).</param>
    /// <param name="settleTime">
    /// How long a task Slurm reports COMPLETED may take to show its finished status.json here, on a shared file
    /// system that caches what other nodes wrote (default 30 s).
    /// </param>
    /// <param name="queueOutage">
    /// How long squeue may keep failing (a busy or restarting controller) before following gives up, leaving the
    /// jobs running (default 5 minutes).
    /// </param>
    /// <param name="workerCommand">How a node starts `rlw`; <see cref="WorkerExecutable.Command"/> (this very build) by default.</param>
    public SlurmBackend(
        SlurmClient client,
        TimeProvider clock,
        TimeSpan? pollInterval = null,
        TimeSpan? settleTime = null,
        TimeSpan? queueOutage = null,
        IReadOnlyList<string>? workerCommand = null)
    {
        this.client = client;
        this.clock = clock;
        this.pollInterval = pollInterval ?? TimeSpan.FromSeconds(2);
        this.settleTime = settleTime ?? TimeSpan.FromSeconds(30);
        this.queueOutage = queueOutage ?? TimeSpan.FromMinutes(5);
        this.workerCommand = workerCommand;
    }

    public string Name => "slurm";

    public async Task RunAsync(SweepManifest manifest, string sweepDirectory, IReadOnlyList<SweepTrial> trials, Action<string> notice, CancellationToken cancel)
    {
        if (trials.Count == 0)
            return;
        sweepDirectory = Path.GetFullPath(sweepDirectory);
        SlurmBatchScript.Validate(manifest.Slurm);
        await client.EnsureAvailableAsync(cancel);

        var runBy = await StillQueuedOrRunningAsync(sweepDirectory, trials, cancel);
        foreach (var (submission, count) in runBy.Values.GroupBy(s => s).Select(g => (g.Key, g.Count())))
            notice($"Slurm job {submission.JobId} of this sweep still has {Trials(count)} queued or running; following it instead of submitting them again.");

        var toSubmit = trials.Where(t => !runBy.ContainsKey(t.Index)).ToList();
        if (toSubmit.Count > 0)
        {
            // Not cancellable: a job that sbatch accepted must have its id recorded, or a rerun would submit it twice.
            var submission = await SubmitAsync(manifest, sweepDirectory, toSubmit, CancellationToken.None);
            foreach (var t in toSubmit)
                runBy[t.Index] = submission;
            notice($"Submitted Slurm job {submission.JobId}: {Trials(toSubmit.Count)} as array {SlurmBatchScript.ArraySpec(toSubmit.Select(t => t.Index))} ({submission.ScriptPath}).");
        }

        var jobIds = string.Join(", ", runBy.Values.Select(s => s.JobId).Distinct());
        try
        {
            await FollowAsync(manifest, sweepDirectory, trials, runBy, notice, cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            notice($"Stopped following. Slurm job {jobIds} keeps its queued and running trials: run the same sweep again to follow it "
                + $"(finished trials are kept), or 'scancel {jobIds.Replace(", ", " ", StringComparison.Ordinal)}' to stop them (each stops at a checkpoint and continues on the next run).");
        }
    }

    /// <summary>The trials an earlier submission of this sweep still has queued or running, by trial index.</summary>
    private async Task<Dictionary<int, SlurmSubmission>> StillQueuedOrRunningAsync(string sweepDirectory, IReadOnlyList<SweepTrial> trials, CancellationToken cancel)
    {
        var runBy = new Dictionary<int, SlurmSubmission>();
        var submissions = SlurmSubmissions.Read(sweepDirectory);
        if (submissions.Count == 0)
            return runBy;
        var wanted = trials.Select(t => t.Index).ToHashSet();
        var queue = await client.QueueAsync(submissions.Select(s => s.JobId).ToList(), cancel);
        foreach (var submission in submissions)
        {
            // The script path tells this sweep's job from another one that got the same id after the controller's state was reset.
            foreach (var task in queue.Where(q => q.JobId == submission.JobId && q.Command == submission.ScriptPath && q.IsActive && wanted.Contains(q.TaskId)))
                runBy[task.TaskId] = submission;
        }
        return runBy;
    }

    private async Task<SlurmSubmission> SubmitAsync(SweepManifest manifest, string sweepDirectory, IReadOnlyList<SweepTrial> trials, CancellationToken cancel)
    {
        var scriptPath = SlurmSubmissions.NextScriptPath(sweepDirectory);
        var script = SlurmBatchScript.Write(
            JobName(manifest.Name), manifest.Slurm, sweepDirectory, trials, SlurmSubmissions.SlurmLogPattern(scriptPath), workerCommand ?? WorkerExecutable.Command());
        Directory.CreateDirectory(Path.GetDirectoryName(scriptPath)!);
        await File.WriteAllTextAsync(scriptPath, script, cancel);
        try
        {
            var jobId = await client.SubmitAsync(scriptPath, cancel);
            return SlurmSubmissions.Record(scriptPath, jobId);
        }
        catch
        {
            // A script sbatch refused was never a submission; leave nothing that says otherwise.
            File.Delete(scriptPath);
            throw;
        }
    }

    /// <summary>How a trial's array task ended: its last squeue row (null when Slurm no longer listed it) in words, and when that was seen.</summary>
    private sealed record TaskEnd(SlurmTask? Last, string Description, DateTimeOffset SeenUtc)
    {
        public bool Completed => Last?.State == "COMPLETED";
    }

    /// <summary>
    /// Polls squeue until no trial's task is queued or running, and concludes each trial as its task ends, so the
    /// sweep's display counts a failure when it happens.
    /// </summary>
    private async Task FollowAsync(
        SweepManifest manifest, string sweepDirectory, IReadOnlyList<SweepTrial> trials, Dictionary<int, SlurmSubmission> runBy,
        Action<string> notice, CancellationToken cancel)
    {
        var last = new Dictionary<int, SlurmTask>();
        var ended = new Dictionary<int, TaskEnd>();
        var concluded = new HashSet<int>();
        var lastSummary = "";
        var jobIds = runBy.Values.Select(s => s.JobId).Distinct().ToList();
        DateTimeOffset? failingSince = null;
        while (true)
        {
            IReadOnlyList<SlurmTask> queue;
            try
            {
                queue = await client.QueueAsync(jobIds, cancel);
                failingSince = null;
            }
            catch (SlurmUnavailableException e)
            {
                var now = clock.GetUtcNow();
                if (failingSince is null)
                    notice($"{e.Message.TrimEnd('.')}; asking again.");
                failingSince ??= now;
                if (now - failingSince >= queueOutage)
                    throw new SlurmUnavailableException(
                        $"{e.Message.TrimEnd('.')} for {Duration(queueOutage)}, so the sweep stopped following Slurm job {string.Join(", ", jobIds)}; "
                        + "its trials go on, and running the same sweep again follows them.");
                await Task.Delay(pollInterval, clock, cancel);
                continue;
            }
            var active = new List<SweepTrial>();
            foreach (var trial in trials)
            {
                var row = queue.FirstOrDefault(q => q.JobId == runBy[trial.Index].JobId && q.TaskId == trial.Index);
                if (row is not null)
                    last[trial.Index] = row;
                // A task the controller no longer lists has ended (it forgets ended jobs after MinJobAge).
                if (row is { IsActive: true })
                    active.Add(trial);
                else if (!ended.ContainsKey(trial.Index))
                    ended[trial.Index] = await EndOfAsync(runBy[trial.Index], last.GetValueOrDefault(trial.Index), cancel);
            }
            foreach (var trial in trials.Where(t => ended.ContainsKey(t.Index) && !concluded.Contains(t.Index)))
            {
                if (Conclude(manifest, sweepDirectory, trial, runBy[trial.Index], ended[trial.Index], notice))
                    concluded.Add(trial.Index);
            }
            if (active.Count == 0 && concluded.Count == trials.Count)
                return;

            var summary = Summary(trials, active, last);
            if (active.Count > 0 && summary != lastSummary)
            {
                notice(summary);
                lastSummary = summary;
            }
            await Task.Delay(pollInterval, clock, cancel);
        }
    }

    private async Task<TaskEnd> EndOfAsync(SlurmSubmission submission, SlurmTask? last, CancellationToken cancel)
    {
        if (last is null)
            return new TaskEnd(null, "in a state Slurm no longer lists", clock.GetUtcNow());
        if (last.State == "COMPLETED")
            return new TaskEnd(last, last.State, clock.GetUtcNow());
        var exit = await client.ExitOfAsync(submission.JobId, last.TaskId, cancel);
        var reasons = new[] { last.Reason is "" or "None" ? null : last.Reason, exit }.OfType<string>().ToList();
        return new TaskEnd(last, reasons.Count == 0 ? last.State : $"{last.State} ({string.Join(", ", reasons)})", clock.GetUtcNow());
    }

    /// <summary>
    /// Reads an ended trial's record and says what happened to it; a worker that ended without recording an end is
    /// marked failed with Slurm's state and the log paths. False while a completed task's status.json may still be
    /// on its way (a shared file system can show this machine a cached copy for a while).
    /// </summary>
    private bool Conclude(SweepManifest manifest, string sweepDirectory, SweepTrial trial, SlurmSubmission submission, TaskEnd end, Action<string> notice)
    {
        var directory = SweepLayout.TrialDirectory(sweepDirectory, trial);
        var logs = Logs(sweepDirectory, trial, submission);
        switch (TrialRecords.StateOf(directory))
        {
            case TrialState.Finished:
                return true;
            case TrialState.Failed:
                notice($"Trial {trial.Id} failed: {Tracking.RunReader.ReadInfo(directory).Message ?? "no message"} ({logs}).");
                return true;
            case TrialState.Killed:
                notice($"Trial {trial.Id} was stopped (Slurm: {end.Description}); running the sweep again continues it from its checkpoint ({logs}).");
                return true;
            default:
                if (end.Completed && clock.GetUtcNow() < end.SeenUtc + settleTime)
                    return false;
                var message = $"Slurm job {submission.JobId}_{trial.Index.ToString(CultureInfo.InvariantCulture)} ended {end.Description} before the trial recorded an end; {logs}";
                TrialRecords.MarkFailed(directory, manifest.Experiment, message);
                notice($"Trial {trial.Id} failed: {message}.");
                return true;
        }
    }

    private static string Logs(string sweepDirectory, SweepTrial trial, SlurmSubmission submission)
    {
        var log = $"log: {Path.Combine(SweepLayout.TrialDirectory(sweepDirectory, trial), SweepLayout.TrialLog)}";
        var slurmLog = submission.SlurmLog(trial.Index);
        return File.Exists(slurmLog) && new FileInfo(slurmLog).Length > 0 ? $"{log}, Slurm's messages: {slurmLog}" : log;
    }

    /// <summary>"Slurm: 2 running, 1 pending (Resources), 1 ended": what the scheduler says, which the trials' files cannot (why a task waits).</summary>
    private static string Summary(IReadOnlyList<SweepTrial> trials, IReadOnlyList<SweepTrial> active, IReadOnlyDictionary<int, SlurmTask> last)
    {
        var parts = active
            .Select(t => last[t.Index])
            .GroupBy(q => q.State)
            .OrderBy(g => g.Key == "RUNNING" ? 0 : 1).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g =>
            {
                var reasons = g.Select(q => q.Reason).Where(r => r is not ("" or "None")).Distinct().Order(StringComparer.Ordinal).ToList();
                var state = g.Key.ToLowerInvariant();
                return reasons.Count > 0 ? $"{g.Count()} {state} ({string.Join(", ", reasons)})" : $"{g.Count()} {state}";
            })
            .ToList();
        parts.Add($"{trials.Count - active.Count} ended");
        return "Slurm: " + string.Join(", ", parts);
    }

    /// <summary>"rlw-" and the sweep's name, in the characters every Slurm tool prints plainly.</summary>
    public static string JobName(string sweepName) =>
        "rlw-" + new string(sweepName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray());

    private static string Duration(TimeSpan span) => span < TimeSpan.FromMinutes(2)
        ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.#} s")
        : string.Create(CultureInfo.InvariantCulture, $"{span.TotalMinutes:0.#} minutes");

    private static string Trials(int count) => count == 1 ? "1 trial" : $"{count} trials";
}
