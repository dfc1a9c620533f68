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
/// second one does is <see cref="RepeatedSignal"/> (by default, it ends the process at once).
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

    /// <param name="message">What the user is told when the stop begins.</param>
    public StopSignal(TextWriter error, string message, CancellationToken outer = default)
        : this(error, message, RepeatedSignal.EndsProcess, outer)
    {
    }

    public StopSignal(TextWriter error, string message, RepeatedSignal repeated, CancellationToken outer = default)
    {
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

    private void OnSignal(PosixSignalContext context)
    {
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
