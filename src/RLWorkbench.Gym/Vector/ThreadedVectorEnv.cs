namespace RLWorkbench.Gym.Vector;

/// <summary>
/// Steps the environments on worker threads, like SB3's SubprocVecEnv but in one process. Worth it
/// when a step is slow (simulated latency, a real service); for microsecond steps the hand-off costs
/// more than it saves and <see cref="SyncVectorEnv"/> is faster. Results are identical to the
/// synchronous version because each environment owns its own random source.
/// </summary>
public sealed class ThreadedVectorEnv : VectorEnv
{
    private readonly float[] actionBuffer;
    private readonly float[] observationBuffer;
    private readonly (double Reward, bool Terminated, bool Truncated)[] results;
    private readonly ParallelOptions options;

    public ThreadedVectorEnv(IReadOnlyList<IEnv> envs, int? workers = null)
        : base(envs)
    {
        var count = workers ?? Math.Min(envs.Count, Environment.ProcessorCount);
        if (count < 1)
            throw new ArgumentOutOfRangeException(nameof(workers), count, "A threaded vector environment needs at least one worker.");
        options = new ParallelOptions { MaxDegreeOfParallelism = count };
        actionBuffer = new float[envs.Count * ActionSize];
        observationBuffer = new float[envs.Count * ObservationSize];
        results = new (double, bool, bool)[envs.Count];
    }

    protected override void StepAll(ReadOnlySpan<float> actions, Span<float> observations, Span<double> rewards, Span<bool> terminated, Span<bool> truncated)
    {
        actions.CopyTo(actionBuffer);
        Parallel.For(0, NumEnvs, options, i =>
            results[i] = StepOne(i, actionBuffer.AsSpan(i * ActionSize, ActionSize), observationBuffer.AsSpan(i * ObservationSize, ObservationSize)));
        observationBuffer.CopyTo(observations);
        for (var i = 0; i < NumEnvs; i++)
            (rewards[i], terminated[i], truncated[i]) = results[i];
    }
}
