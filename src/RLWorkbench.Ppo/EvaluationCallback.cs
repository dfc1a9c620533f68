using RLWorkbench.Gym;

namespace RLWorkbench.Ppo;

/// <summary>
/// SB3's optional stop rules of an evaluation callback. Both off by default.
/// </summary>
public sealed record EvaluationStops
{
    /// <summary>Stop once the best evaluation mean reaches this (SB3's StopTrainingOnRewardThreshold); null never stops.</summary>
    public double? RewardThreshold { get; init; }

    /// <summary>
    /// Stop when more than this many evaluations in a row did not beat the best mean (SB3's
    /// StopTrainingOnNoModelImprovement, max_no_improvement_evals); null never stops.
    /// </summary>
    public int? MaxNoImprovementEvals { get; init; }

    /// <summary>Evaluations before the no-improvement rule starts counting (SB3's min_evals).</summary>
    public int MinEvals { get; init; }
}

/// <summary>
/// Deterministic evaluation of the current policy on a schedule, as SB3's EvalCallback: it reports every
/// evaluation, saves the best model so far, and may stop training by the <see cref="EvaluationStops"/>
/// rules. By default evaluation runs inside the rollout, at the first vector step at or after each scheduled
/// step, as SB3's does; with <see cref="AfterUpdates"/> it runs at the first update end at or after it.
/// Every evaluation plays the same episodes (seed + k), so evaluations differ only by the policy.
/// </summary>
public sealed class EvaluationCallback : ITrainingCallback
{
    private readonly IReadOnlyList<IEnv> envs;
    private readonly int episodes;
    private readonly int seed;
    private readonly StepSchedule schedule;
    private long next;
    private int noImprovement;

    /// <param name="startStep">The step training starts from (non-zero when it continues a checkpoint): the next evaluation is the first scheduled step after it.</param>
    /// <param name="bestSoFar">The best evaluation mean before <paramref name="startStep"/>, so "best" means best of the whole run.</param>
    public EvaluationCallback(IReadOnlyList<IEnv> envs, int episodes, int seed, StepSchedule schedule, long startStep = 0, double bestSoFar = double.NegativeInfinity)
    {
        if (envs.Count == 0)
            throw new ArgumentException("Evaluation needs at least one environment.", nameof(envs));
        if (episodes < 1)
            throw new ArgumentOutOfRangeException(nameof(episodes), episodes, "Evaluation needs at least one episode.");
        this.envs = envs;
        this.episodes = episodes;
        this.seed = seed;
        this.schedule = schedule;
        next = schedule.NextAfter(startStep);
        BestMeanReward = bestSoFar;
    }

    /// <summary>Where the policy is saved each time an evaluation beats the best; null saves nothing.</summary>
    public string? BestModelPath { get; init; }

    public EvaluationStops Stops { get; init; } = new();

    /// <summary>
    /// Evaluate at the first update end at or after each scheduled step instead of mid-rollout. The policy only
    /// changes at updates, so when a rollout is longer than the schedule's interval, mid-rollout evaluations
    /// repeat the previous policy and the curve climbs in stairs; after updates every evaluation is of a new policy.
    /// </summary>
    public bool AfterUpdates { get; init; }

    /// <summary>Called after every evaluation with the step and its summary (a run records its row here).</summary>
    public Action<long, EvaluationSummary>? Evaluated { get; init; }

    /// <summary>The best evaluation mean so far (negative infinity before any).</summary>
    public double BestMeanReward { get; private set; }

    /// <summary>The step of <see cref="BestMeanReward"/>'s evaluation (null before any, or when the best came before a resume).</summary>
    public long? BestStep { get; private set; }

    public int Evaluations { get; private set; }

    /// <summary>Why this callback stopped training, or null if it did not.</summary>
    public string? StopReason { get; private set; }

    public TrainingDecision OnStep(ITrainingContext training) => AfterUpdates ? TrainingDecision.Continue : EvaluateIfDue(training);

    public TrainingDecision OnUpdateEnd(ITrainingContext training, UpdateMetrics metrics) => AfterUpdates ? EvaluateIfDue(training) : TrainingDecision.Continue;

    /// <summary>
    /// An evaluation made outside the schedule (the run's final one) competes for the best model too, so the best
    /// is never worse than the last evaluation: when it beats the best so far it becomes the best, and the current
    /// policy is saved as the best model. It does not count for the stop rules. True when it became the best.
    /// </summary>
    public bool Consider(ITrainingContext training, EvaluationSummary summary)
    {
        if (!(summary.Mean > BestMeanReward))
            return false;
        BestMeanReward = summary.Mean;
        BestStep = training.TotalSteps;
        if (BestModelPath is not null)
            training.SaveCheckpoint(BestModelPath);
        return true;
    }

    private TrainingDecision EvaluateIfDue(ITrainingContext training)
    {
        if (training.TotalSteps < next)
            return TrainingDecision.Continue;
        next = schedule.NextAfter(training.TotalSteps);
        var summary = EvaluationSummary.Of(training.EvaluateDeterministic(envs, episodes, seed));
        Evaluations++;
        Evaluated?.Invoke(training.TotalSteps, summary);
        return Decide(Consider(training, summary), training.TotalSteps);
    }

    private TrainingDecision Decide(bool improved, long step)
    {
        if (Stops.RewardThreshold is { } threshold && BestMeanReward >= threshold)
        {
            StopReason = $"the best evaluation mean {BestMeanReward:F2} reached the reward threshold {threshold} at step {step:N0}";
            return TrainingDecision.Stop;
        }
        if (Stops.MaxNoImprovementEvals is { } patience && Evaluations > Stops.MinEvals)
        {
            noImprovement = improved ? 0 : noImprovement + 1;
            if (noImprovement > patience)
            {
                StopReason = $"{noImprovement} evaluations in a row did not beat the best mean {BestMeanReward:F2} (step {step:N0})";
                return TrainingDecision.Stop;
            }
        }
        return TrainingDecision.Continue;
    }
}
