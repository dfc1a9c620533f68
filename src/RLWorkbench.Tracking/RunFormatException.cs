namespace RLWorkbench.Tracking;

/// <summary>A run directory or one of its files that cannot be read as a run; the message says which and why.</summary>
public sealed class RunFormatException : Exception
{
    public RunFormatException()
    {
    }

    public RunFormatException(string message)
        : base(message)
    {
    }

    public RunFormatException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
