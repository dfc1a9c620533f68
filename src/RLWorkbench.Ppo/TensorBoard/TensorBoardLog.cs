namespace RLWorkbench.Ppo.TensorBoard;

/// <summary>
/// A PPO run's TensorBoard event file, with the scalar names stable-baselines3 writes to TensorBoard, so
/// `tensorboard --logdir` shows a workbench run the way it shows an SB3 one (on a run directory, or a whole
/// sweep: every run keeps its file under &lt;run&gt;/tensorboard/). Call <see cref="WriteUpdate"/> after each
/// rollout's update and <see cref="WriteEvaluation"/> after each evaluation; both flush. Not thread-safe:
/// the training thread writes.
/// </summary>
public sealed class TensorBoardLog : IDisposable
{
    /// <summary>The folder inside a run directory that holds its event files.</summary>
    public const string DirectoryName = "tensorboard";

    private readonly EventFile file;
    private readonly TimeProvider clock;

    /// <param name="directory">Where the event file goes (created if missing); a new file each time, never appended to.</param>
    /// <param name="clock">The wall clock the events are stamped with (the system clock when null).</param>
    public TensorBoardLog(string directory, TimeProvider? clock = null)
    {
        this.clock = clock ?? TimeProvider.System;
        var now = this.clock.GetUtcNow();
        file = new EventFile(directory, now);
        file.Write(EventEncoding.FileVersion(WallTime(now)));
        file.Flush();
    }

    /// <summary>The log of a run, in &lt;run directory&gt;/tensorboard/.</summary>
    public static TensorBoardLog ForRun(string runDirectory, TimeProvider? clock = null) =>
        new(Path.Combine(runDirectory, DirectoryName), clock);

    public string FilePath => file.FilePath;

    /// <summary>
    /// One rollout and its update, at the step the rollout ended: SB3's rollout/, train/ and time/ scalars.
    /// SB3 writes train/ one rollout later (it logs the update after the next rollout); here each update's
    /// numbers sit at the step of the rollout they learned from. Values the update does not have (NaN: no
    /// finished episode yet, no Gaussian std for discrete actions, no value clipping) are left out, as SB3
    /// leaves them out. SB3's train/loss (the last minibatch's loss alone) is not computed here, and
    /// train/n_updates is left out as SB3 leaves it out of TensorBoard.
    /// </summary>
    public void WriteUpdate(UpdateMetrics metrics)
    {
        var step = metrics.Step;
        Scalar("rollout/ep_rew_mean", step, metrics.EpisodeRewardMean);
        Scalar("rollout/ep_len_mean", step, metrics.EpisodeLengthMean);
        // SB3's fps is the steps per second since training began, not those of the last rollout.
        Scalar("time/fps", step, metrics.TimeSeconds > 0 ? metrics.Step / metrics.TimeSeconds : double.NaN);
        Scalar("train/entropy_loss", step, metrics.EntropyLoss);
        Scalar("train/policy_gradient_loss", step, metrics.PolicyLoss);
        Scalar("train/value_loss", step, metrics.ValueLoss);
        Scalar("train/approx_kl", step, metrics.ApproxKl);
        Scalar("train/clip_fraction", step, metrics.ClipFraction);
        Scalar("train/explained_variance", step, metrics.ExplainedVariance);
        Scalar("train/std", step, metrics.ActionStd);
        Scalar("train/clip_range", step, metrics.ClipRange);
        Scalar("train/clip_range_vf", step, metrics.ValueClipRange);
        Scalar("train/learning_rate", step, metrics.LearningRate);
        file.Flush();
    }

    /// <summary>A deterministic evaluation at a step: SB3's EvalCallback scalars.</summary>
    public void WriteEvaluation(long step, double meanReward, double meanEpisodeLength)
    {
        Scalar("eval/mean_reward", step, meanReward);
        Scalar("eval/mean_ep_length", step, meanEpisodeLength);
        file.Flush();
    }

    /// <summary>Any other scalar (kept until the next flush); a NaN value is not written.</summary>
    public void Scalar(string tag, long step, double value)
    {
        if (double.IsNaN(value))
            return;
        file.Write(EventEncoding.Scalar(WallTime(clock.GetUtcNow()), step, tag, (float)value));
    }

    public void Flush() => file.Flush();

    public void Dispose() => file.Dispose();

    private static double WallTime(DateTimeOffset now) => now.ToUnixTimeMilliseconds() / 1000.0;
}
