namespace RLWorkbench.Ppo.Tests;

public class UpdateThreadTunerTests
{
    /// <summary>A clock that moves only when told to, in nanoseconds.</summary>
    private sealed class ManualClock : TimeProvider
    {
        public long Nanoseconds { get; set; }

        public override long TimestampFrequency => 1_000_000_000;

        public override long GetTimestamp() => Nanoseconds;
    }

    /// <summary>Runs <paramref name="count"/> steps whose duration in nanoseconds depends on the step index and thread count.</summary>
    private static (UpdateThreadTuner Tuner, int Switches) Run(int count, Func<int, int, long> nanoseconds)
    {
        var clock = new ManualClock();
        var threads = 1;
        var switches = 0;
        var tuner = new UpdateThreadTuner(2, clock, () => threads, t => { threads = t; switches++; });
        for (var i = 0; i < count; i++)
        {
            tuner.StepStarting();
            Assert.Equal(tuner.Threads, threads);
            clock.Nanoseconds += nanoseconds(i, threads);
            tuner.StepFinished();
        }
        return (tuner, switches);
    }

    [Fact]
    public void On_an_idle_machine_two_threads_win_the_first_probe_and_one_thread_is_probed_ever_less_often()
    {
        // One block on 1 thread, a winning probe on 2, then probes of 1 thread after 1, 2 and 4 blocks on 2,
        // each losing: 4 blocks of 64 steps on one thread, the other 744 steps on two.
        var (tuner, switches) = Run(1000, (_, threads) => threads == 1 ? 1_500_000 : 1_000_000);
        Assert.Equal((256L, 744L), tuner.StepsRun);
        Assert.Equal(2, tuner.PreferredThreads);
        Assert.Equal(7, switches);
    }

    [Fact]
    public void On_a_loaded_machine_each_probe_of_two_threads_is_cut_after_one_step_and_they_come_ever_less_often()
    {
        // Probes after 1, 2, 4, ..., 64 home blocks (127 blocks of 64 steps), each abandoned after its first step.
        var (tuner, _) = Run(127 * 64 + 7, (_, threads) => threads == 1 ? 3_300_000 : 90_000_000);
        Assert.Equal((127L * 64, 7L), tuner.StepsRun);
        Assert.Equal(1, tuner.PreferredThreads);
    }

    [Fact]
    public void When_another_process_takes_the_second_core_the_run_is_back_on_one_thread_within_a_block()
    {
        // Idle until step 300, then loaded. The home block on 2 threads that began at step 256 is cut at step
        // 302, when its 47 steps have taken over 4 x 1.5 ms each; one thread, probed from step 303, wins.
        var (tuner, _) = Run(367, (i, threads) => i < 300
            ? threads == 1 ? 1_500_000 : 1_000_000
            : threads == 1 ? 3_300_000 : 90_000_000);
        Assert.Equal((192L, 175L), tuner.StepsRun);
        Assert.Equal(1, tuner.PreferredThreads);
    }

    [Fact]
    public void With_one_core_the_tuner_keeps_one_thread_and_times_nothing()
    {
        var clock = new ManualClock();
        var threads = 4;
        var tuner = new UpdateThreadTuner(1, clock, () => threads, t => threads = t);
        for (var i = 0; i < 200; i++)
        {
            tuner.StepStarting();
            clock.Nanoseconds += 1_000_000;
            tuner.StepFinished();
        }
        Assert.Equal(1, threads);
        Assert.Equal((0L, 0L), tuner.StepsRun);
    }
}
