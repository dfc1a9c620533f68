namespace RLWorkbench.Ppo;

/// <summary>
/// SB3-style hooks into training. Every method has a no-op default, so a callback implements only the
/// moments it cares about. They run on the training thread between steps.
/// </summary>
public interface ITrainingCallback
{
    /// <summary>After each vector step; <see cref="PpoTrainer.TotalSteps"/> already counts it.</summary>
    void OnStep(PpoTrainer trainer) { }

    void OnEpisodeEnd(PpoTrainer trainer, FinishedEpisode episode) { }

    /// <summary>After a rollout's update, with everything logged for it.</summary>
    void OnUpdateEnd(PpoTrainer trainer, UpdateMetrics metrics) { }
}

/// <summary>Several callbacks in order.</summary>
public sealed class CallbackList(params ITrainingCallback[] callbacks) : ITrainingCallback
{
    public void OnStep(PpoTrainer trainer)
    {
        foreach (var c in callbacks)
            c.OnStep(trainer);
    }

    public void OnEpisodeEnd(PpoTrainer trainer, FinishedEpisode episode)
    {
        foreach (var c in callbacks)
            c.OnEpisodeEnd(trainer, episode);
    }

    public void OnUpdateEnd(PpoTrainer trainer, UpdateMetrics metrics)
    {
        foreach (var c in callbacks)
            c.OnUpdateEnd(trainer, metrics);
    }
}

/// <summary>
/// What one rollout and its update logged (the spec's list), plus where the time went. Losses are
/// means over all minibatches of all epochs; approx KL is the mean over the last epoch, as SB3 logs it.
/// The last three are what SB3 also logs (train/clip_range, train/clip_range_vf, train/std); NaN when
/// the trainer does not give them (value clipping off, no Gaussian).
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
    bool StoppedEarly,
    double ClipRange = double.NaN,
    double ValueClipRange = double.NaN,
    double ActionStd = double.NaN);
