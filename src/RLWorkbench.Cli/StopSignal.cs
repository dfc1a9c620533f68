using System.Runtime.InteropServices;

namespace RLWorkbench.Cli;

/// <summary>What a second Ctrl+C (or SIGTERM) does once a stop is under way.</summary>
public enum RepeatedSignal
{
    /// <summary>The default handling: the process ends at once.</summary>
    EndsProcess,

    /// <summary>Cancels <see cref="StopSignal.Escalated"/> and keeps the process alive (a sweep runner kills its workers, records it and exits).</summary>
    Escalates,

    /// <summary>Ignored: a sweep worker gets the terminal's Ctrl+C and its runner's forwarded one, and must save either way.</summary>
    Ignored,
}

/// <summary>
/// The first Ctrl+C (SIGINT) or SIGTERM asks a long run to stop cleanly and save what it has; what a
/// second one does is <see cref="RepeatedSignal"/> (by default, it ends the process at once). A signal within
/// <see cref="SameRequestWindow"/> of the first is the same request delivered twice, not a second one: GNU `timeout`,
/// `kill` on a process group and a terminal's Ctrl+C each send one signal to the process and one to its group.
/// </summary>
public sealed class StopSignal : IDisposable
{
    private readonly CancellationTokenSource source;
    private readonly CancellationTokenSource escalated = new();
    private readonly TextWriter error;
    private readonly string message;
    private readonly RepeatedSignal repeated;
    private readonly PosixSignalRegistration interrupt;
    private readonly PosixSignalRegistration terminate;
    private readonly TimeProvider clock;
    private long? firstSignalAt;

    /// <summary>No person presses Ctrl+C twice this fast; a process-group delivery arrives within microseconds.</summary>
    public static readonly TimeSpan SameRequestWindow = TimeSpan.FromMilliseconds(200);

    /// <param name="message">What the user is told when the stop begins.</param>
    public StopSignal(TextWriter error, string message, CancellationToken outer = default)
        : this(error, message, RepeatedSignal.EndsProcess, outer)
    {
    }

    public StopSignal(TextWriter error, string message, RepeatedSignal repeated, CancellationToken outer = default)
        : this(error, message, repeated, TimeProvider.System, outer)
    {
    }

    /// <param name="clock">Times the gap between signals (<see cref="SameRequestWindow"/>).</param>
    public StopSignal(TextWriter error, string message, RepeatedSignal repeated, TimeProvider clock, CancellationToken outer = default)
    {
        this.clock = clock;
        this.error = error;
        this.message = message;
        this.repeated = repeated;
        source = CancellationTokenSource.CreateLinkedTokenSource(outer);
        interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    public CancellationToken Token => source.Token;

    /// <summary>Cancelled by a second signal when made with <see cref="RepeatedSignal.Escalates"/>.</summary>
    public CancellationToken Escalated => escalated.Token;

    /// <summary>What one SIGINT or SIGTERM does; the registrations call it, and tests call it with a context of their own.</summary>
    public void OnSignal(PosixSignalContext context)
    {
        if (firstSignalAt is { } first && clock.GetElapsedTime(first) < SameRequestWindow)
        {
            context.Cancel = true;
            return;
        }
        if (source.IsCancellationRequested)
        {
            if (repeated == RepeatedSignal.EndsProcess)
                return;
            context.Cancel = true;
            if (repeated == RepeatedSignal.Escalates && !escalated.IsCancellationRequested)
                escalated.Cancel();
            return;
        }
        context.Cancel = true;
        firstSignalAt = clock.GetTimestamp();
        error.WriteLine(message);
        source.Cancel();
    }

    public void Dispose()
    {
        interrupt.Dispose();
        terminate.Dispose();
        source.Dispose();
        escalated.Dispose();
    }
}
