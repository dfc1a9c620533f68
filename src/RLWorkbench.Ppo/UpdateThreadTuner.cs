namespace RLWorkbench.Ppo;

/// <summary>
/// Chooses, while a run goes on, whether the update's minibatch steps use one libtorch thread or all of
/// them, by timing the steps. On the 2-core development machine two threads made a step about a third
/// shorter when the machine was otherwise idle, and ten to thirty times longer when other processes
/// held the second core (a thread waits at every OpenMP barrier for a partner that is not running); a
/// long run sees both. So the steps run in blocks on the current choice, and now and then a probe block
/// runs on the other one; whichever was faster by a margin is kept. A probe that is plainly slower is cut
/// short after its first step, and a failed probe waits twice as long before the next one, so a loaded
/// machine pays a step or so every few seconds. For the seed configuration the thread count changes no
/// bit of the results (docs/ppo.md, "Threads"), so the choice only decides speed.
/// </summary>
public sealed class UpdateThreadTuner
{
    /// <summary>Minibatch steps per timed block (0.1 s at the seed configuration's 1.5 ms per step).</summary>
    public const int BlockSteps = 64;

    /// <summary>The most blocks between two probes, reached after repeated failed ones.</summary>
    public const int LongestProbeInterval = 64;

    // A probe wins only when clearly faster, so timing noise cannot flip the choice back and forth.
    private const double WinningRatio = 0.9;

    // A block is cut short once it has taken this many times what its steps took on the other choice.
    private const double AbandonRatio = 4;

    // When the current choice becomes this much slower than the other was at its last measurement, the
    // machine has changed: probe at once instead of waiting out the interval.
    private const double ChangedRatio = 1.2;

    private readonly int[] choices;
    private readonly TimeProvider clock;
    private readonly Func<int> currentThreads;
    private readonly Action<int> setThreads;
    private readonly double[] secondsPerStep = [double.NaN, double.NaN];
    private readonly long[] steps = [0, 0];

    private int home;
    private int running;
    private int probeInterval = 1;
    private int blocksUntilProbe = 1;
    private int blockSteps;
    private double blockSeconds;
    private long stepStart;

    /// <param name="maxThreads">The alternative to one thread (the machine's cores); 1 makes the tuner a no-op.</param>
    /// <param name="clock">Times the steps.</param>
    /// <param name="currentThreads">libtorch's current intra-op thread count (others, e.g. the rollout, may change it between steps).</param>
    /// <param name="setThreads">Sets libtorch's intra-op thread count.</param>
    public UpdateThreadTuner(int maxThreads, TimeProvider clock, Func<int> currentThreads, Action<int> setThreads)
    {
        choices = [1, Math.Max(1, maxThreads)];
        this.clock = clock;
        this.currentThreads = currentThreads;
        this.setThreads = setThreads;
    }

    /// <summary>The thread count the next step runs on.</summary>
    public int Threads => choices[running];

    /// <summary>The alternative to one thread.</summary>
    public int MaxThreads => choices[1];

    /// <summary>The thread count the tuner currently believes fastest (probes aside).</summary>
    public int PreferredThreads => choices[home];

    /// <summary>Steps run so far on one thread and on <c>maxThreads</c>.</summary>
    public (long OneThread, long AllThreads) StepsRun => (steps[0], steps[1]);

    /// <summary>Call before each minibatch step: sets libtorch's thread count for it and starts its clock.</summary>
    public void StepStarting()
    {
        if (currentThreads() != Threads)
            setThreads(Threads);
        stepStart = clock.GetTimestamp();
    }

    /// <summary>Call after each minibatch step (optimizer step included).</summary>
    public void StepFinished()
    {
        if (choices[0] == choices[1])
            return;
        blockSeconds += clock.GetElapsedTime(stepStart).TotalSeconds;
        blockSteps++;
        steps[running]++;
        var probing = running != home;
        var other = 1 - running;
        if (blockSeconds > AbandonRatio * secondsPerStep[other] * blockSteps)
        {
            // Plainly slower than the other choice was: a probe has lost, and a home block means the machine
            // changed (another process took the second core), so the other choice is tried at once.
            secondsPerStep[running] = blockSeconds / blockSteps;
            if (probing)
            {
                EndProbe(won: false);
            }
            else
            {
                running = other;
                StartBlock();
            }
            return;
        }
        if (blockSteps < BlockSteps)
            return;

        var mean = blockSeconds / blockSteps;
        secondsPerStep[running] = mean;
        if (probing)
        {
            EndProbe(won: mean < WinningRatio * secondsPerStep[home]);
            return;
        }
        blocksUntilProbe--;
        if (mean > ChangedRatio * secondsPerStep[other])
            blocksUntilProbe = 0;
        if (blocksUntilProbe <= 0)
            running = other;
        StartBlock();
    }

    private void EndProbe(bool won)
    {
        if (won)
        {
            home = running;
            probeInterval = 1;
        }
        else
        {
            probeInterval = Math.Min(2 * probeInterval, LongestProbeInterval);
        }
        running = home;
        blocksUntilProbe = probeInterval;
        StartBlock();
    }

    private void StartBlock()
    {
        blockSteps = 0;
        blockSeconds = 0;
    }
}
