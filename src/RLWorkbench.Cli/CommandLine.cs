using System.CommandLine;
using System.Text.RegularExpressions;
using RLWorkbench.Cli.Commands;
using RLWorkbench.Experiments;

namespace RLWorkbench.Cli;

/// <summary>A mistake in how the command was called: one sentence to the user, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Exit codes and error reporting shared by every command.</summary>
public static partial class CommandLine
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int UsageError = 2;

    /// <summary>Every `rlw` command, as Program.cs runs them and tests invoke them in process.</summary>
    public static RootCommand Root()
    {
        var root = new RootCommand("RLWorkbench: reinforcement learning over a pool of LLM-backed agents (Phase 1 PPO, Phase 2 Q-learning routing).");
        foreach (var command in new Command[]
        {
            EnvCommand.Create(),
            BenchCommand.Create(),
            RunsCommand.Create(),
            PlotCommand.Create(),
            PpoCommand.Create(),
            EvalCommand.Create(),
            QlearnCommand.Create(),
            RouteCommand.Create(),
            CompareCommand.Create(),
            SweepCommand.Create(),
            NotebookCommand.Create(),
        })
        {
            root.Subcommands.Add(command);
        }
        return root;
    }

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
                error.WriteLine($"error: {ForUser(e.Message)}");
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

    /// <summary>System.CommandLine's conversion message ("... as expected type 'System.Int32'") said with what the option takes.</summary>
    public static string ForUser(string parseError)
    {
        var m = ConversionPattern().Match(parseError);
        if (!m.Success)
            return parseError;
        var type = m.Groups["type"].Value;
        var takes = type.Contains("Int", StringComparison.Ordinal) ? "a whole number"
            : type.Contains("Double", StringComparison.Ordinal) || type.Contains("Single", StringComparison.Ordinal) || type.Contains("Decimal", StringComparison.Ordinal) ? "a number"
            : type.Contains("Boolean", StringComparison.Ordinal) ? "true or false"
            : "a different value";
        return $"{m.Groups["symbol"].Value} must be {takes}, got '{m.Groups["value"].Value}'.";
    }

    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for (option|command|argument) '(?<symbol>[^']*)' as expected type '(?<type>[^']*)'\.?$")]
    private static partial Regex ConversionPattern();

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
