namespace RLWorkbench.Routing.Providers;

/// <summary>
/// Simulated time: it moves only when told to (<see cref="Advance"/>) or when something waits on it, and a wait moves it
/// straight to the wake-up instant instead of sleeping. So a simulated provider can ask for a 30 s Retry-After and a run
/// honours it without anyone waiting 30 s. The clock moves when a wait starts, so it cannot tell waits that overlap in
/// real time from waits one after the other: two started together end at the sum of their lengths (simulated time runs
/// fast, never slow, under overlapping retries). Timers fire once (a period is ignored): Task.Delay and the retry waits
/// only use one-shot timers.
/// </summary>
public sealed class VirtualClock(DateTimeOffset start) : TimeProvider
{
    private readonly Lock gate = new();
    private DateTimeOffset now = start;

    /// <summary>
    /// Where simulated runs start: a fixed instant, not the wall clock, because simulated answers write absolute reset times
    /// to the second (Anthropic's headers), so a start with another sub-second fraction rounds them differently and
    /// provider-aware choices, and with them a run, would differ from one run to the next.
    /// </summary>
    public static DateTimeOffset FixedStart { get; } = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow()
    {
        lock (gate)
            return now;
    }

    // Timestamps follow the virtual time too, so an elapsed time measured on this clock is simulated seconds.
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    public void Advance(TimeSpan by)
    {
        if (by < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(by), $"Time only moves forward; cannot advance by {by}.");
        lock (gate)
            now += by;
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new OneShot(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private void WakeAt(TimeSpan due, TimerCallback callback, object? state)
    {
        lock (gate)
            now += due;
        ThreadPool.UnsafeQueueUserWorkItem(s => callback(s), state, preferLocal: false);
    }

    private sealed class OneShot(VirtualClock clock, TimerCallback callback, object? state) : ITimer
    {
        private int fired;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (dueTime == Timeout.InfiniteTimeSpan || Interlocked.Exchange(ref fired, 1) == 1)
                return true;
            clock.WakeAt(dueTime < TimeSpan.Zero ? TimeSpan.Zero : dueTime, callback, state);
            return true;
        }

        public void Dispose() => Interlocked.Exchange(ref fired, 1);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
