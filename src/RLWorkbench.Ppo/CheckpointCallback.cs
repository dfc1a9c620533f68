namespace RLWorkbench.Ppo;

/// <summary>
/// Saves a checkpoint at the first rollout end at or after each multiple of <c>everySteps</c>, keeping only
/// the latest file. Only a rollout end is a point training can be resumed from exactly.
/// </summary>
public sealed class CheckpointCallback : ITrainingCallback
{
    private readonly string path;
    private readonly StepSchedule schedule;
    private long next;

    /// <param name="everySteps">0 or less turns periodic checkpoints off.</param>
    /// <param name="startStep">The step training starts from (non-zero when it continues a checkpoint).</param>
    public CheckpointCallback(string path, long everySteps, long startStep = 0)
    {
        this.path = path;
        schedule = StepSchedule.Every(everySteps);
        next = schedule.NextAfter(startStep);
    }

    public TrainingDecision OnUpdateEnd(ITrainingContext training, UpdateMetrics metrics)
    {
        if (training.TotalSteps >= next)
        {
            next = schedule.NextAfter(training.TotalSteps);
            training.SaveCheckpoint(path);
        }
        return TrainingDecision.Continue;
    }
}
