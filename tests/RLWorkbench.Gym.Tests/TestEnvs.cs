using RLWorkbench.Gym;
using RLWorkbench.Gym.Random;
using RLWorkbench.Gym.Spaces;

namespace RLWorkbench.Gym.Tests;

/// <summary>
/// A counter environment: the observation is [seed-derived start, t], the reward is the action plus
/// t, and episodes end after a fixed length, by termination or by truncation.
/// </summary>
internal sealed class CounterEnv(int length, bool truncate = false) : IEnv
{
    private readonly SeededRandomSource random = new(0);
    private float start;
    private int t;

    public Space ObservationSpace { get; } = new Box(float.NegativeInfinity, float.PositiveInfinity, 2);

    public Space ActionSpace { get; } = new Box(-1, 1, 1);

    public EnvInfo Info { get; } = new("t");

    public int Resets { get; private set; }

    public void Reset(int? seed, Span<float> observation)
    {
        if (seed is { } s)
            random.Seed(s);
        start = random.Integer(0, 1000);
        t = 0;
        Resets++;
        Info["t"] = 0;
        observation[0] = start;
        observation[1] = 0;
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        t++;
        Info["t"] = t;
        observation[0] = start;
        observation[1] = t;
        var done = t >= length;
        return new StepResult(action[0] + t, Terminated: done && !truncate, Truncated: done && truncate);
    }

    public void Dispose()
    {
    }
}
