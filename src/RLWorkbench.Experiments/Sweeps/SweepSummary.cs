using RLWorkbench.Tracking.Plots;
using RLWorkbench.Tracking.Statistics;

namespace RLWorkbench.Experiments.Sweeps;

/// <summary>
/// One configuration's numbers over its seeds. Means and intervals are over the finished trials only;
/// the others are counted (failed, not finished) so none disappears. The approx_kl figures look at every
/// trial that logged approx_kl, finished or not, since a runaway is often why a trial failed.
/// </summary>
/// <param name="Rank">1 for the highest mean final score; equal means share a rank; null without a finished trial.</param>
/// <param name="Milestones">Aligned with <see cref="SweepSummary.Milestones"/>.</param>
/// <param name="KlTrials">Trials that logged approx_kl: what <see cref="Runaways"/> is out of.</param>
/// <param name="TrainingReturns">ep_rew_mean over the finished seeds at each of <see cref="SweepSummary.ReferenceSteps"/>.</param>
public sealed record ConfigurationResult(
    SweepConfiguration Configuration,
    IReadOnlyList<ReportedTrial> Trials,
    int? Rank,
    Estimate Final,
    Estimate Best,
    Estimate AreaUnderCurve,
    Estimate WorkPerSecond,
    IReadOnlyList<Estimate> Milestones,
    double? MaxApproxKl,
    int Runaways,
    int KlTrials,
    IReadOnlyList<Estimate>? TrainingReturns = null)
{
    public int Finished => Trials.Count(t => t.Finished);

    public int Failed => Trials.Count(t => !t.Finished && t.State == TrialState.Failed);

    /// <summary>Running, stopped, not started, or finished without a final score: censored like the failed ones.</summary>
    public int NotFinished => Trials.Count - Finished - Failed;
}

/// <summary>A sweep's trials read back and summed up per configuration, ranked; what report.md, report.csv and the figure show.</summary>
/// <param name="Configurations">In rank order; configurations without a finished trial last, by key.</param>
/// <param name="Milestones">The milestone steps any trial's configuration asks for, ascending.</param>
/// <param name="Curve">The learning curve the trials' scores.json name (all trials of a sweep run one kind); null when none wrote scores.</param>
/// <param name="ReferenceSteps">Where SB3's seed-configuration curve is known (ppo sweeps on the Phase 1 seed67 base environment); empty otherwise.</param>
public sealed record SweepSummary(
    SweepManifest Manifest,
    IReadOnlyList<ConfigurationResult> Configurations,
    IReadOnlyList<long> Milestones,
    bool HasApproxKl,
    string? ScoreName,
    string? WorkUnit,
    CurveSource? Curve,
    IReadOnlyList<string> Problems,
    IReadOnlyList<long>? ReferenceSteps = null)
{
    /// <summary>
    /// A trial "ran away" when its approx_kl ever exceeds this. Healthy PPO runs on the Phase 1 environment stay
    /// below 0.07; the seed configuration's late runaway goes to about 1 and then to 50-4000. 0.5 is seven times
    /// the healthy maximum and under the first runaway value, so neither side is close to it.
    /// </summary>
    public const double RunawayApproxKl = 0.5;

    public IEnumerable<ReportedTrial> Trials => Configurations.SelectMany(c => c.Trials);

    public static SweepSummary Read(string sweepDirectory, SweepManifest manifest)
    {
        var milestones = manifest.Trials.SelectMany(t => ReportedTrial.ConfiguredMilestones(t.Configuration)).Distinct().Order().ToList();
        // SB3's curve was measured on the seed67 layout, where every reference (greedy included) applies.
        IReadOnlyList<long> referenceSteps = SweepReport.References(manifest).Contains(Phase1References.Greedy)
            ? [.. Phase1References.Sb3SeedCurve.Select(p => p.Step)]
            : [];
        var trials = manifest.Trials.Select(t => ReportedTrial.Read(sweepDirectory, t, milestones, referenceSteps)).ToList();
        // Sweeps too short to reach SB3's first reference step get no empty columns.
        if (!trials.Any(t => t.TrainingReturns?.Any(v => v is not null) == true))
            referenceSteps = [];
        var problems = trials.SelectMany(t => t.Problems).ToList();
        foreach (var orphan in trials.Where(t => manifest.Configurations.All(c => c.Key != t.Trial.ConfigurationKey)))
            problems.Add($"{orphan.Trial.Id} names configuration {orphan.Trial.ConfigurationKey}, which sweep.json does not list; it is left out.");

        var unranked = manifest.Configurations
            .Select(c => Summarise(c, trials.Where(t => t.Trial.ConfigurationKey == c.Key).OrderBy(t => t.Trial.Seed).ThenBy(t => t.Trial.Index).ToList(), milestones, referenceSteps.Count))
            .ToList();
        var ranked = unranked
            .OrderBy(c => c.Final.Count == 0 ? 1 : 0)
            .ThenByDescending(c => c.Final.Count == 0 ? 0 : c.Final.Mean)
            .ThenBy(c => c.Configuration.Key, StringComparer.Ordinal)
            .Select(c => c with
            {
                Rank = c.Final.Count == 0 ? null : 1 + unranked.Count(o => o.Final.Count > 0 && o.Final.Mean > c.Final.Mean),
            })
            .ToList();

        var scored = trials.Where(t => t.Scores is not null).ToList();
        var curves = scored.Select(t => t.Scores!.Curve).Distinct().ToList();
        if (curves.Count > 1)
            problems.Add($"trials name different learning curves ({string.Join("; ", curves.Select(c => $"{c.Table}.csv {c.X}/{c.Y}"))}); the figure uses {curves[0].Table}.csv.");
        return new SweepSummary(
            manifest,
            ranked,
            milestones,
            trials.Any(t => t.MaxApproxKl is not null),
            scored.FirstOrDefault()?.Scores!.ScoreName,
            scored.FirstOrDefault()?.Scores!.WorkUnit,
            curves.FirstOrDefault(),
            problems,
            referenceSteps);
    }

    private static ConfigurationResult Summarise(SweepConfiguration configuration, IReadOnlyList<ReportedTrial> trials, IReadOnlyList<long> milestones, int referenceSteps)
    {
        var finished = trials.Where(t => t.Finished).ToList();
        Estimate Over(Func<ReportedTrial, double?> value) =>
            Estimate.Of(finished.Select(value).Where(v => v is { } x && double.IsFinite(x)).Select(v => v!.Value).ToList());
        var kl = trials.Where(t => t.MaxApproxKl is not null).Select(t => t.MaxApproxKl!.Value).ToList();
        return new ConfigurationResult(
            configuration,
            trials,
            null,
            Over(t => t.Scores!.Final),
            Over(t => t.Scores!.Best),
            Over(t => t.AreaUnderCurve),
            Over(t => t.Scores!.WorkPerSecond),
            milestones.Select(m => Over(t => t.Milestones.FirstOrDefault(e => e.Milestone == m)?.MeanReward)).ToList(),
            kl.Count > 0 ? kl.Max() : null,
            kl.Count(v => v > RunawayApproxKl),
            kl.Count,
            Enumerable.Range(0, referenceSteps).Select(i => Over(t => t.TrainingReturns is { } r && i < r.Count ? r[i] : null)).ToList());
    }
}
