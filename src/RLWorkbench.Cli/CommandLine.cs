using System.CommandLine;
using RLWorkbench.Experiments;

namespace RLWorkbench.Cli;

/// <summary>A mistake in how the command was called: one sentence to the user, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Exit codes and error reporting shared by every command.</summary>
public static class CommandLine
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int UsageError = 2;

    /// <summary>
    /// Parses and runs; parse errors, <see cref="UsageException"/> and a configuration an experiment refuses
    /// (<see cref="ExperimentConfigException"/>) give exit code 2, other errors 1, never a stack trace for a user mistake.
    /// </summary>
    public static int Invoke(RootCommand root, string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            foreach (var e in result.Errors)
                error.WriteLine($"error: {e.Message}");
            error.WriteLine($"Run '{string.Join(' ', CommandPath(result))} --help' for usage.");
            return UsageError;
        }
        try
        {
            return result.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (Unwrap(e) is UsageException or ExperimentConfigException)
        {
            error.WriteLine($"error: {Unwrap(e).Message}");
            return UsageError;
        }
        catch (Exception e) when (Unwrap(e) is OperationCanceledException)
        {
            error.WriteLine("Stopped.");
            return Failure;
        }
        catch (Exception e)
        {
            var inner = Unwrap(e);
            error.WriteLine($"error: {inner.Message}");
            if (Environment.GetEnvironmentVariable("RLW_DEBUG") == "1")
                error.WriteLine(inner);
            return Failure;
        }
    }

    private static Exception Unwrap(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } or System.Reflection.TargetInvocationException && e.InnerException is { } inner)
            e = inner;
        return e;
    }

    private static IEnumerable<string> CommandPath(ParseResult result)
    {
        yield return "rlw";
        var names = new List<string>();
        for (var c = result.CommandResult; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult)
        {
            if (c.Command is not RootCommand)
                names.Add(c.Command.Name);
        }
        names.Reverse();
        foreach (var n in names)
            yield return n;
    }
}
