namespace RLWorkbench.Experiments.Sweeps;

/// <summary>A trial and what this run of the sweep does with it.</summary>
public sealed record TrialPlan(SweepTrial Trial, TrialStart Start);

/// <summary>
/// One run of a sweep over a held sweep directory: classifies the trials (finished ones are skipped; failed,
/// stopped and stale ones run again from their checkpoint where they have one), hands the rest to a
/// backend, and reads the results back. Running the same sweep again is how it resumes.
/// </summary>
public sealed class SweepRunner
{
    private readonly SweepDirectory sweep;

    public SweepRunner(SweepDirectory sweep, TimeProvider clock)
    {
        this.sweep = sweep;
        Plans = Classify(sweep.Manifest, sweep.Path);
        ToRun = Plans.Where(p => p.Start != TrialStart.Skip).Select(p => p.Trial).ToList();
        Monitor = new SweepMonitor(sweep.Manifest, sweep.Path, ToRun, clock);
    }

    public IReadOnlyList<TrialPlan> Plans { get; }

    /// <summary>The trials this run starts, in launch order.</summary>
    public IReadOnlyList<SweepTrial> ToRun { get; }

    public SweepMonitor Monitor { get; }

    public static IReadOnlyList<TrialPlan> Classify(SweepManifest manifest, string sweepDirectory) =>
        manifest.Trials.Select(t => new TrialPlan(t, TrialResume.Classify(SweepLayout.TrialDirectory(sweepDirectory, t)))).ToList();

    /// <summary>What this run will do, in one line: "8 trials: 3 finished earlier (skipped), 2 continue from checkpoints, 3 start."</summary>
    public string Describe()
    {
        var parts = new (TrialStart Start, string Text)[]
        {
            (TrialStart.Skip, "finished earlier (skipped)"), (TrialStart.Continue, "continue from their checkpoints"),
            (TrialStart.Restart, "start again (no checkpoint)"), (TrialStart.Start, "start"),
        }
            .Select(p => (p.Text, Count: Plans.Count(x => x.Start == p.Start)))
            .Where(p => p.Count > 0)
            .Select(p => $"{p.Count} {p.Text}");
        return $"{Plans.Count} trials: {string.Join(", ", parts)}.";
    }

    public Task RunAsync(ISweepBackend backend, Action<string> notice, CancellationToken cancel) =>
        ToRun.Count == 0 ? Task.CompletedTask : backend.RunAsync(sweep.Manifest, sweep.Path, ToRun, notice, cancel);

    public IReadOnlyList<TrialResult> Results() => SweepResults.Read(sweep.Manifest, sweep.Path);
}
