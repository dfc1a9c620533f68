using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace RLWorkbench.Cli.Commands;

/// <summary>
/// `notebook`: runs one of notebooks/*.ipynb headless with the checkout's dotnet-repl (the local tool in
/// .config/dotnet-tools.json, as the test suite does), writes the executed copy with every cell's output, says where
/// it is, and fails with the failing cells' errors, since dotnet-repl itself prints nothing either way.
/// </summary>
public static class NotebookCommand
{
    public const string DefaultOutput = "artifacts/notebooks";

    public static Command Create()
    {
        var notebook = new Argument<string>("notebook") { Description = "A notebook of notebooks/ by name (ppo-learning-curves) or a path to an .ipynb inside the checkout." };
        var output = new Option<string>("--out") { Description = "Directory for the executed copy; the file keeps the notebook's name.", DefaultValueFactory = _ => DefaultOutput };
        var command = new Command("notebook", "Run a notebook headless and save it with its outputs (dotnet-repl).");
        command.Arguments.Add(notebook);
        command.Options.Add(output);
        command.SetAction(result =>
        {
            var root = CheckoutRoot(AppContext.BaseDirectory)
                ?? throw new InvalidOperationException($"no workbench checkout (notebooks/ and .config/dotnet-tools.json) above {AppContext.BaseDirectory}, so there is no dotnet-repl to run notebooks with.");
            var source = Resolve(result.GetValue(notebook)!, root);
            var outputDirectory = Path.GetFullPath(result.GetValue(output)!);
            var executed = Path.Combine(outputDirectory, Path.GetFileName(source));
            if (string.Equals(executed, source, StringComparison.Ordinal))
                throw new UsageException($"--out {result.GetValue(output)} would overwrite the notebook itself; the notebooks are kept without outputs, so give another directory.");
            return Run(source, executed, root, result.InvocationConfiguration.Output, result.InvocationConfiguration.Error);
        });
        return command;
    }

    /// <summary>The checkout a notebook belongs to: the nearest directory at or above <paramref name="start"/> with notebooks/ and the tool manifest.</summary>
    public static string? CheckoutRoot(string start)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, "notebooks")) && File.Exists(Path.Combine(dir.FullName, ".config", "dotnet-tools.json")))
                return dir.FullName;
        }
        return null;
    }

    /// <summary>The notebook file a name or path means; one sentence listing the notebooks when it is neither.</summary>
    public static string Resolve(string given, string root)
    {
        var notebooks = Path.Combine(root, "notebooks");
        var candidates = new[] { given, Path.Combine(notebooks, given), Path.Combine(notebooks, given + ".ipynb") };
        var file = candidates.FirstOrDefault(c => File.Exists(c) && c.EndsWith(".ipynb", StringComparison.Ordinal));
        if (file is null)
        {
            var names = Directory.EnumerateFiles(notebooks, "*.ipynb").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal);
            throw new UsageException($"notebook '{given}' is neither an .ipynb file nor one of notebooks/: {string.Join(", ", names)}.");
        }
        file = Path.GetFullPath(file);
        // dotnet tool run finds the checkout's dotnet-repl from the notebook's directory upwards, and the notebooks load
        // the checkout's build by relative paths, so a notebook elsewhere would find neither.
        if (!file.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new UsageException($"notebook '{given}' is outside the checkout {root}; put it under {notebooks}, where it finds the workbench's build and dotnet-repl.");
        return file;
    }

    /// <summary>One failing cell: its number among the code cells, its first source line, and the error dotnet-repl recorded.</summary>
    public sealed record CellError(int CodeCell, string FirstLine, string Message);

    /// <summary>The cells of an executed notebook whose outputs hold an error, in order.</summary>
    public static IReadOnlyList<CellError> Errors(JsonNode executed)
    {
        var errors = new List<CellError>();
        var codeCell = 0;
        foreach (var cell in executed["cells"]?.AsArray() ?? [])
        {
            if (cell?["cell_type"]?.GetValue<string>() != "code")
                continue;
            codeCell++;
            foreach (var output in cell["outputs"]?.AsArray() ?? [])
            {
                if (output?["output_type"]?.GetValue<string>() != "error")
                    continue;
                var firstLine = Text(cell["source"]).Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "";
                errors.Add(new CellError(codeCell, firstLine, ErrorMessage(output)));
            }
        }
        return errors;
    }

    /// <summary>The error without its stack trace: the exception or compiler lines, which say what went wrong.</summary>
    private static string ErrorMessage(JsonNode output)
    {
        var value = output["evalue"]?.GetValue<string>();
        if (string.IsNullOrWhiteSpace(value))
            value = output["ename"]?.GetValue<string>() ?? "an error with no message";
        var lines = value.Replace("\r", "", StringComparison.Ordinal).Split('\n')
            .TakeWhile(l => !l.TrimStart().StartsWith("at ", StringComparison.Ordinal) && !l.StartsWith("---", StringComparison.Ordinal))
            .Where(l => l.Trim().Length > 0)
            .Take(5);
        return string.Join(Environment.NewLine, lines);
    }

    private static string Text(JsonNode? source) => source switch
    {
        JsonArray parts => string.Concat(parts.Select(p => p?.GetValue<string>())),
        JsonValue value => value.GetValue<string>(),
        _ => "",
    };

    private static int Run(string source, string executed, string root, TextWriter output, TextWriter error)
    {
        var restore = Dotnet(root, "tool", "restore");
        if (restore.ExitCode != 0)
        {
            error.WriteLine(restore.Output);
            error.WriteLine("error: dotnet tool restore failed (output above), so dotnet-repl is not available.");
            return CommandLine.Failure;
        }
        var directory = Path.GetDirectoryName(executed)!;
        Directory.CreateDirectory(directory);
        // dotnet-repl writes the copy as it goes; under a temporary name until it has finished, so the named file is
        // always a whole run's.
        var partial = Path.Combine(directory, $".{Path.GetFileNameWithoutExtension(executed)}.{Guid.NewGuid():N}.ipynb");
        output.WriteLine($"Running {Path.GetRelativePath(root, source)} with dotnet-repl (it prints nothing while the cells run)...");
        var clock = Stopwatch.StartNew();
        try
        {
            // From the notebook's own directory: its relative paths (../src/.../bin/Release) are written from there.
            var repl = Dotnet(Path.GetDirectoryName(source)!, "tool", "run", "dotnet-repl", "--", "--run", source, "--exit-after-run", "--output-path", partial);
            if (!File.Exists(partial))
            {
                error.WriteLine(repl.Output);
                error.WriteLine($"error: dotnet-repl stopped (exit {repl.ExitCode}) without writing the executed notebook (its output above).");
                return CommandLine.Failure;
            }
            var cells = JsonNode.Parse(File.ReadAllText(partial))!;
            File.Move(partial, executed, overwrite: true);
            var errors = Errors(cells);
            var codeCells = cells["cells"]!.AsArray().Count(c => c?["cell_type"]?.GetValue<string>() == "code");
            var seconds = clock.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture);
            if (errors.Count > 0)
            {
                foreach (var e in errors)
                    error.WriteLine($"error: code cell {e.CodeCell} of {codeCells} ({e.FirstLine}) failed:{Environment.NewLine}  {e.Message.Replace(Environment.NewLine, Environment.NewLine + "  ", StringComparison.Ordinal)}");
                error.WriteLine($"{errors.Count} of {codeCells} code cells failed ({seconds} s). Executed copy with every cell's output: {executed}");
                return CommandLine.Failure;
            }
            if (repl.ExitCode != 0)
            {
                error.WriteLine(repl.Output);
                error.WriteLine($"error: dotnet-repl exited with {repl.ExitCode} though no cell recorded an error (its output above). Executed copy: {executed}");
                return CommandLine.Failure;
            }
            output.WriteLine($"All {codeCells} code cells ran without an error ({seconds} s). Executed copy with outputs: {executed}");
            return CommandLine.Ok;
        }
        finally
        {
            File.Delete(partial);
        }
    }

    private static (int ExitCode, string Output) Dotnet(string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, (stdout.Result + stderr.Result).TrimEnd());
    }
}
