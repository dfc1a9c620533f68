namespace RLWorkbench.Ppo;

/// <summary>When a periodic callback acts: every N environment steps, or at listed steps (milestones).</summary>
public sealed class StepSchedule
{
    private readonly long every;
    private readonly long[] steps;

    private StepSchedule(long every, long[] steps)
    {
        this.every = every;
        this.steps = steps;
    }

    /// <summary>At every multiple of <paramref name="steps"/>; 0 or less means never.</summary>
    public static StepSchedule Every(long steps) => new(steps, []);

    /// <summary>At each of the given steps (order and repeats do not matter).</summary>
    public static StepSchedule At(IEnumerable<long> steps) => new(0, [.. steps.Distinct().Order()]);

    /// <summary>The first step after <paramref name="step"/> at which to act, or <see cref="long.MaxValue"/> when there is none.</summary>
    public long NextAfter(long step)
    {
        if (every > 0)
            return (step / every + 1) * every;
        foreach (var s in steps)
        {
            if (s > step)
                return s;
        }
        return long.MaxValue;
    }
}
