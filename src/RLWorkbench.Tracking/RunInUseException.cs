namespace RLWorkbench.Tracking;

/// <summary>Another process holds the run directory a command was about to write (see <see cref="RunLock"/>).</summary>
public sealed class RunInUseException : IOException
{
    public RunInUseException()
    {
    }

    public RunInUseException(string message)
        : base(message)
    {
    }

    public RunInUseException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
