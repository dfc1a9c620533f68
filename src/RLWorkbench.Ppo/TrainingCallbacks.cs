using RLWorkbench.Gym;

namespace RLWorkbench.Ppo;

/// <summary>What a callback asks of training after it has looked: go on, or end training here (SB3's on_step returning False).</summary>
public enum TrainingDecision
{
    Continue,
    Stop,
}

/// <summary>How <see cref="PpoTrainer.Learn"/> ended.</summary>
public enum TrainingOutcome
{
    /// <summary>Reached the requested steps (at a rollout end).</summary>
    Completed,

    /// <summary>A callback decided to stop; training ended at that step.</summary>
    StoppedByCallback,

    /// <summary>The cancellation token fired; the unfinished rollout or update was undone.</summary>
    Cancelled,
}

/// <summary>
/// What a callback may see of a training run and do with it, so callbacks are written against this and
/// not against one trainer. <see cref="PpoTrainer"/> implements it.
/// </summary>
public interface ITrainingContext
{
    /// <summary>Environment steps so far, counting every environment of the vector.</summary>
    long TotalSteps { get; }

    /// <summary>Finished updates (one per rollout).</summary>
    int Updates { get; }

    /// <summary>Wall-clock seconds of training, including the time before a resume.</summary>
    double ElapsedSeconds { get; }

    /// <summary>Mean return of the last 100 finished training episodes (NaN before the first).</summary>
    double EpisodeRewardMean { get; }

    /// <summary>Mean length of the last 100 finished training episodes (NaN before the first).</summary>
    double EpisodeLengthMean { get; }

    /// <summary>Plays <paramref name="episodes"/> episodes of the current policy deterministically; episode k starts from seed + k.</summary>
    IReadOnlyList<EvaluationEpisode> EvaluateDeterministic(IReadOnlyList<IEnv> envs, int episodes, int seed);

    /// <summary>Saves everything a resume needs (weights, optimizer, counters, random state) to one file.</summary>
    void SaveCheckpoint(string path);
}

/// <summary>
/// SB3-style hooks into training. Every method has a default, so a callback implements only the moments
/// it cares about. They run on the training thread between steps. A <see cref="TrainingDecision.Stop"/>
/// ends training cleanly at that point: mid-rollout the partial rollout is not trained on.
/// </summary>
public interface ITrainingCallback
{
    /// <summary>After each vector step; <see cref="ITrainingContext.TotalSteps"/> already counts it.</summary>
    TrainingDecision OnStep(ITrainingContext training) => TrainingDecision.Continue;

    void OnEpisodeEnd(ITrainingContext training, FinishedEpisode episode) { }

    /// <summary>After a rollout's update, with everything logged for it.</summary>
    TrainingDecision OnUpdateEnd(ITrainingContext training, UpdateMetrics metrics) => TrainingDecision.Continue;
}

/// <summary>Several callbacks in order. Each is called even when an earlier one asks to stop (as SB3's CallbackList), so recorders still record that step.</summary>
public sealed class CallbackList(params ITrainingCallback[] callbacks) : ITrainingCallback
{
    public TrainingDecision OnStep(ITrainingContext training)
    {
        var decision = TrainingDecision.Continue;
        foreach (var c in callbacks)
        {
            if (c.OnStep(training) == TrainingDecision.Stop)
                decision = TrainingDecision.Stop;
        }
        return decision;
    }

    public void OnEpisodeEnd(ITrainingContext training, FinishedEpisode episode)
    {
        foreach (var c in callbacks)
            c.OnEpisodeEnd(training, episode);
    }

    public TrainingDecision OnUpdateEnd(ITrainingContext training, UpdateMetrics metrics)
    {
        var decision = TrainingDecision.Continue;
        foreach (var c in callbacks)
        {
            if (c.OnUpdateEnd(training, metrics) == TrainingDecision.Stop)
                decision = TrainingDecision.Stop;
        }
        return decision;
    }
}

/// <summary>
/// What one rollout and its update logged (the spec's list), plus where the time went. Losses are
/// means over all minibatches of all epochs; approx KL is the mean over the last epoch, as SB3 logs it.
/// </summary>
public sealed record UpdateMetrics(
    long Step,
    double TimeSeconds,
    double EpisodeRewardMean,
    double EpisodeLengthMean,
    double PolicyLoss,
    double ValueLoss,
    double EntropyLoss,
    double ApproxKl,
    double ClipFraction,
    double ExplainedVariance,
    double LogStdMean,
    double LearningRate,
    double StepsPerSecond,
    double RolloutSeconds,
    double UpdateSeconds,
    int GradientSteps,
    bool StoppedEarly);
