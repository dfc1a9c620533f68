namespace RLWorkbench.Experiments.Sweeps;

/// <summary>Where a sweep stands, for its progress display.</summary>
/// <param name="FinishedEarlier">Trials that had finished before this run of the sweep began (skipped).</param>
/// <param name="Finished">All finished trials, those from earlier included.</param>
/// <param name="Stopped">Stopped cleanly in this run (Ctrl+C): a rerun continues them.</param>
/// <param name="Pending">Still to start in this run.</param>
/// <param name="UnitsPerSecond">Work per second summed over the running trials.</param>
/// <param name="Eta">Remaining work over the summed rate; null until both are known.</param>
public sealed record SweepSnapshot(
    int Total,
    int FinishedEarlier,
    int Finished,
    int Running,
    int Failed,
    int Stopped,
    int Pending,
    double UnitsPerSecond,
    string Unit,
    TimeSpan? Eta,
    IReadOnlyList<RunningTrial> RunningTrials);

public sealed record RunningTrial(SweepTrial Trial, string Label, TrialProgress? Progress);

/// <summary>
/// Reads a running sweep from its files alone (status.json and progress.json of each trial), so the same
/// display follows local workers and Slurm array tasks. A trial counts as started in this run once its
/// status.json differs from what it held when the monitor was made, or it wrote progress since: a failed
/// trial from an earlier run waiting to be rerun shows as pending, not failed. (Contents, not modification
/// times: two writes within one tick of the file system's coarse clock share a time. Progress too: a trial
/// whose earlier worker died mid-run says "running" before and after its new worker reopens it.)
/// </summary>
public sealed class SweepMonitor
{
    /// <summary>A running trial whose progress.json is older than this is left out of the rate (it stalled or died).</summary>
    public static readonly TimeSpan StaleProgress = TimeSpan.FromSeconds(30);

    private readonly SweepManifest manifest;
    private readonly string sweepDirectory;
    private readonly TimeProvider clock;
    private readonly Dictionary<int, string?> statusAtStart = [];
    private readonly int finishedEarlier;
    private readonly DateTimeOffset createdUtc;

    public SweepMonitor(SweepManifest manifest, string sweepDirectory, IReadOnlyList<SweepTrial> toRun, TimeProvider clock)
    {
        this.manifest = manifest;
        this.sweepDirectory = sweepDirectory;
        this.clock = clock;
        createdUtc = clock.GetUtcNow();
        foreach (var trial in toRun)
            statusAtStart[trial.Index] = Status(trial);
        finishedEarlier = manifest.Trials.Count(t => !statusAtStart.ContainsKey(t.Index) && TrialRecords.StateOf(Directory(t)) == TrialState.Finished);
    }

    public SweepSnapshot Snapshot()
    {
        int finished = finishedEarlier, running = 0, failed = 0, stopped = 0, pending = 0;
        var rate = 0.0;
        var unit = "steps";
        var runningTrials = new List<RunningTrial>();
        var remaining = 0.0;
        var unknownRemaining = 0;
        var totals = new List<long>();
        var now = clock.GetUtcNow();
        foreach (var trial in manifest.Trials)
        {
            var progress = TrialProgressWriter.Read(Directory(trial));
            if (progress is not null)
            {
                unit = progress.Unit;
                totals.Add(progress.Total);
            }
            if (!statusAtStart.TryGetValue(trial.Index, out var atStart))
                continue;
            var started = (Status(trial) is { } written && written != atStart) || progress?.UpdatedUtc >= createdUtc;
            var state = started ? TrialRecords.StateOf(Directory(trial)) : TrialState.NotStarted;
            switch (state)
            {
                case TrialState.Finished:
                    finished++;
                    continue;
                case TrialState.Failed:
                    failed++;
                    continue;
                case TrialState.Killed:
                    stopped++;
                    continue;
                case TrialState.Running:
                    running++;
                    runningTrials.Add(new RunningTrial(trial, Label(trial), progress));
                    if (progress is not null && now - progress.UpdatedUtc <= StaleProgress)
                        rate += progress.UnitsPerSecond;
                    break;
                default:
                    pending++;
                    break;
            }
            if (progress is not null)
                remaining += Math.Max(0, progress.Total - progress.Done);
            else
                unknownRemaining++;
        }
        if (unknownRemaining > 0 && totals.Count > 0)
            remaining += unknownRemaining * totals.Average();
        TimeSpan? eta = rate > 0 && (unknownRemaining == 0 || totals.Count > 0) ? TimeSpan.FromSeconds(remaining / rate) : null;
        return new SweepSnapshot(manifest.Trials.Count, finishedEarlier, finished, running, failed, stopped, pending, rate, unit, eta, runningTrials);
    }

    private string Label(SweepTrial trial) => manifest.LabelOf(trial) ?? trial.ConfigurationKey;

    private string Directory(SweepTrial trial) => SweepLayout.TrialDirectory(sweepDirectory, trial);

    private string? Status(SweepTrial trial)
    {
        var path = Path.Combine(Directory(trial), Tracking.RunStore.StatusFile);
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
