using System.Globalization;
using System.Text.Json;

namespace RLWorkbench.Experiments.Sweeps.Slurm;

/// <summary>
/// Runs a sweep's trials as one sbatch job array (one array task per trial) and follows it with squeue until every
/// task has ended. A rerun submits only the trials not already queued or running in an earlier job of the sweep,
/// and follows those. Stopping (Ctrl+C) stops following only: the jobs stay with the scheduler, as a cluster user
/// expects of a batch job; `scancel` stops them, each trial at a checkpoint.
/// </summary>
public sealed class SlurmBackend : ISweepBackend
{
    private readonly SlurmClient _client;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _pollInterval;
    private readonly TimeSpan _progressInterval;
    private readonly TimeSpan _settleTime;
    private readonly IReadOnlyList<string>? _workerCommand;

    /// <param name="client">The Slurm tools and the cluster they talk to.</param>
    /// <param name="clock">Paces polling and progress lines.</param>
    /// <param name="pollInterval">How often squeue is asked (default 2 s).</param>
    /// <param name="progressInterval">How often each running trial's progress is printed (default 30 s).</param>
    /// <param name="settleTime">
    /// How long a task Slurm reports COMPLETED may take to show its finished status.json here, on a shared file
    /// system that caches what other nodes wrote (default 30 s).
    /// </param>
    /// <param name="workerCommand">How a node starts `rlw`; <see cref="WorkerExecutable.Command"/> (this very build) by default.</param>
    public SlurmBackend(
        SlurmClient client,
        TimeProvider clock,
        TimeSpan? pollInterval = null,
        TimeSpan? progressInterval = null,
        TimeSpan? settleTime = null,
        IReadOnlyList<string>? workerCommand = null)
    {
        _client = client;
        _clock = clock;
        _pollInterval = pollInterval ?? TimeSpan.FromSeconds(2);
        _progressInterval = progressInterval ?? TimeSpan.FromSeconds(30);
        _settleTime = settleTime ?? TimeSpan.FromSeconds(30);
        _workerCommand = workerCommand;
    }

    public string Name => "slurm";

    public async Task RunAsync(SweepManifest manifest, string sweepDirectory, IReadOnlyList<SweepTrial> trials, Action<string> notice, CancellationToken cancel)
    {
        if (trials.Count == 0)
            return;
        sweepDirectory = Path.GetFullPath(sweepDirectory);
        SlurmBatchScript.Validate(manifest.Slurm);
        await _client.EnsureAvailableAsync(cancel);

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
        IReadOnlyDictionary<int, TaskEnd> ends;
        try
        {
            ends = await FollowAsync(sweepDirectory, trials, runBy, notice, cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            notice($"Stopped following. Slurm job {jobIds} keeps its queued and running trials: run the same sweep again to follow it "
                + $"(finished trials are kept), or 'scancel {jobIds.Replace(", ", " ", StringComparison.Ordinal)}' to stop them (each stops at a checkpoint and continues on the next run).");
            return;
        }
        await ConcludeAsync(manifest, sweepDirectory, trials, runBy, ends);
    }

    /// <summary>The trials an earlier submission of this sweep still has queued or running, by trial index.</summary>
    private async Task<Dictionary<int, SlurmSubmission>> StillQueuedOrRunningAsync(string sweepDirectory, IReadOnlyList<SweepTrial> trials, CancellationToken cancel)
    {
        var runBy = new Dictionary<int, SlurmSubmission>();
        var submissions = SlurmSubmissions.Read(sweepDirectory);
        if (submissions.Count == 0)
            return runBy;
        var wanted = trials.Select(t => t.Index).ToHashSet();
        var queue = await _client.QueueAsync(submissions.Select(s => s.JobId).ToList(), cancel);
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
            JobName(manifest.Name), manifest.Slurm, sweepDirectory, trials, SlurmSubmissions.SlurmLogPattern(scriptPath), _workerCommand ?? WorkerExecutable.Command());
        Directory.CreateDirectory(Path.GetDirectoryName(scriptPath)!);
        await File.WriteAllTextAsync(scriptPath, script, cancel);
        try
        {
            var jobId = await _client.SubmitAsync(scriptPath, cancel);
            return SlurmSubmissions.Record(scriptPath, jobId);
        }
        catch
        {
            // A script sbatch refused was never a submission; leave nothing that says otherwise.
            File.Delete(scriptPath);
            throw;
        }
    }

    /// <summary>How a trial's array task ended: its last squeue row (null when Slurm no longer listed it) in words.</summary>
    private sealed record TaskEnd(SlurmTask? Last, string Description)
    {
        public bool Completed => Last?.State == "COMPLETED";
    }

    /// <summary>Polls squeue until no trial's task is queued or running; returns how each one ended.</summary>
    private async Task<IReadOnlyDictionary<int, TaskEnd>> FollowAsync(
        string sweepDirectory, IReadOnlyList<SweepTrial> trials, Dictionary<int, SlurmSubmission> runBy, Action<string> notice, CancellationToken cancel)
    {
        var last = new Dictionary<int, SlurmTask>();
        var ends = new Dictionary<int, TaskEnd>();
        var lastSummary = "";
        var nextProgress = _clock.GetUtcNow() + _progressInterval;
        var jobIds = runBy.Values.Select(s => s.JobId).Distinct().ToList();
        while (true)
        {
            var queue = await _client.QueueAsync(jobIds, cancel);
            foreach (var trial in trials)
            {
                var row = queue.FirstOrDefault(q => q.JobId == runBy[trial.Index].JobId && q.TaskId == trial.Index);
                if (row is not null)
                    last[trial.Index] = row;
            }
            // A task the controller no longer lists has ended (it forgets ended jobs after MinJobAge).
            var active = trials.Where(t => queue.Any(q => q.JobId == runBy[t.Index].JobId && q.TaskId == t.Index && q.IsActive)).ToList();
            foreach (var trial in trials.Where(t => !active.Contains(t) && !ends.ContainsKey(t.Index)))
            {
                var end = await EndOfAsync(runBy[trial.Index], last.GetValueOrDefault(trial.Index), cancel);
                ends[trial.Index] = end;
                notice(end.Completed
                    ? $"{trial.Id}: finished."
                    : $"{trial.Id}: ended {end.Description}; {Logs(sweepDirectory, trial, runBy[trial.Index])}.");
            }
            if (active.Count == 0)
                return ends;

            var summary = Summary(trials, active, last);
            if (summary != lastSummary)
            {
                notice(summary);
                lastSummary = summary;
            }
            if (_clock.GetUtcNow() >= nextProgress)
            {
                var progress = ProgressLine(sweepDirectory, active.Where(t => last.GetValueOrDefault(t.Index)?.State == "RUNNING"));
                if (progress.Length > 0)
                    notice(progress);
                nextProgress = _clock.GetUtcNow() + _progressInterval;
            }
            await Task.Delay(_pollInterval, _clock, cancel);
        }
    }

    private async Task<TaskEnd> EndOfAsync(SlurmSubmission submission, SlurmTask? last, CancellationToken cancel)
    {
        if (last is null)
            return new TaskEnd(null, "in a state Slurm no longer lists");
        if (last.State == "COMPLETED")
            return new TaskEnd(last, last.State);
        var exit = await _client.ExitOfAsync(submission.JobId, last.TaskId, cancel);
        var reasons = new[] { last.Reason is "" or "None" ? null : last.Reason, exit }.OfType<string>().ToList();
        return new TaskEnd(last, reasons.Count == 0 ? last.State : $"{last.State} ({string.Join(", ", reasons)})");
    }

    /// <summary>Marks every trial whose worker ended without recording an end as failed, with Slurm's state and the log paths.</summary>
    private async Task ConcludeAsync(
        SweepManifest manifest, string sweepDirectory, IReadOnlyList<SweepTrial> trials,
        Dictionary<int, SlurmSubmission> runBy, IReadOnlyDictionary<int, TaskEnd> ends)
    {
        // A worker that exited 0 has finished; if its status.json does not say so yet, this machine sees a cached copy.
        var deadline = _clock.GetUtcNow() + _settleTime;
        while (trials.Any(t => ends[t.Index].Completed && StateOf(sweepDirectory, t) != TrialState.Finished)
               && _clock.GetUtcNow() < deadline)
            await Task.Delay(_pollInterval, _clock, CancellationToken.None);

        foreach (var trial in trials)
        {
            var directory = SweepLayout.TrialDirectory(sweepDirectory, trial);
            if (TrialRecords.StateOf(directory) is TrialState.Finished or TrialState.Failed or TrialState.Killed)
                continue;
            var submission = runBy[trial.Index];
            TrialRecords.MarkFailed(
                directory,
                manifest.Experiment,
                $"Slurm job {submission.JobId}_{trial.Index.ToString(CultureInfo.InvariantCulture)} ended {ends[trial.Index].Description} before the trial recorded an end; {Logs(sweepDirectory, trial, submission)}.");
        }
    }

    private static TrialState StateOf(string sweepDirectory, SweepTrial trial) =>
        TrialRecords.StateOf(SweepLayout.TrialDirectory(sweepDirectory, trial));

    private static string Logs(string sweepDirectory, SweepTrial trial, SlurmSubmission submission)
    {
        var log = $"log: {Path.Combine(SweepLayout.TrialDirectory(sweepDirectory, trial), SweepLayout.TrialLog)}";
        var slurmLog = submission.SlurmLog(trial.Index);
        return File.Exists(slurmLog) && new FileInfo(slurmLog).Length > 0 ? $"{log}, Slurm's messages: {slurmLog}" : log;
    }

    /// <summary>"Slurm: 2 running, 1 pending (Resources), 1 ended".</summary>
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

    /// <summary>"c00-seed0 4096/8192 steps (2150/s); c01-seed0 ..." from the running trials' progress.json.</summary>
    private static string ProgressLine(string sweepDirectory, IEnumerable<SweepTrial> running)
    {
        var parts = new List<string>();
        foreach (var trial in running)
        {
            var path = Path.Combine(SweepLayout.TrialDirectory(sweepDirectory, trial), SweepLayout.ProgressFile);
            var progress = ReadProgress(path);
            if (progress is not null)
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"{trial.Id} {progress.Done}/{progress.Total} {progress.Unit} ({progress.UnitsPerSecond:0}/s)"));
        }
        return string.Join("; ", parts);
    }

    private static TrialProgress? ReadProgress(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<TrialProgress>(File.ReadAllText(path), SweepManifest.Json) : null;
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            // Progress is a courtesy: a file being replaced or half-visible on a shared file system is read next time.
            return null;
        }
    }

    /// <summary>"rlw-" and the sweep's name, in the characters every Slurm tool prints plainly.</summary>
    public static string JobName(string sweepName) =>
        "rlw-" + new string(sweepName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray());

    private static string Trials(int count) => count == 1 ? "1 trial" : $"{count} trials";
}
