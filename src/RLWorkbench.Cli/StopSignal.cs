using System.Runtime.InteropServices;

namespace RLWorkbench.Cli;

/// <summary>
/// The first Ctrl+C (SIGINT) or SIGTERM asks a long run to stop cleanly and save what it has; a second
/// one is left to the default handling, which ends the process at once.
/// </summary>
public sealed class StopSignal : IDisposable
{
    private readonly CancellationTokenSource source;
    private readonly TextWriter error;
    private readonly string message;
    private readonly PosixSignalRegistration interrupt;
    private readonly PosixSignalRegistration terminate;

    /// <param name="message">What the user is told when the stop begins.</param>
    public StopSignal(TextWriter error, string message, CancellationToken outer = default)
    {
        this.error = error;
        this.message = message;
        source = CancellationTokenSource.CreateLinkedTokenSource(outer);
        interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    public CancellationToken Token => source.Token;

    private void OnSignal(PosixSignalContext context)
    {
        if (source.IsCancellationRequested)
            return;
        context.Cancel = true;
        error.WriteLine(message);
        source.Cancel();
    }

    public void Dispose()
    {
        interrupt.Dispose();
        terminate.Dispose();
        source.Dispose();
    }
}
