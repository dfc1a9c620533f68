using System.Diagnostics;
using System.Text.Json.Nodes;

namespace RLWorkbench.Cli.Tests;

/// <summary>
/// Executes every notebook in notebooks/ headless with dotnet-repl (from the tool manifest) and fails
/// on any cell error, so the notebooks never rot. Notebooks reference the Release build of the CLI.
/// </summary>
public class NotebookTests
{
    private static readonly Lazy<bool> ReleaseBuild = new(() =>
    {
        // ./rlw test builds Release already; a Debug test run builds it here.
        if (!AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            RunOrThrow(RepositoryPaths.Root, "build", "src/RLWorkbench.Cli/RLWorkbench.Cli.csproj", "-c", "Release", "-v", "q", "--nologo");
        RunOrThrow(RepositoryPaths.Root, "tool", "restore");
        return true;
    });

    public static TheoryData<string> Notebooks()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, "notebooks"), "*.ipynb").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Every_notebook_runs_headless_without_a_cell_error(string notebook)
    {
        Assert.True(ReleaseBuild.Value);
        // Through `rlw notebook`, the command users run: it names each failing cell and its error, which dotnet-repl does not.
        var outDirectory = Workbench.TempDirectory();
        var result = Workbench.RunWith(Workbench.StartInfo(RepositoryPaths.Root, "notebook", notebook, "--out", outDirectory), TimeSpan.FromMinutes(5));
        Assert.True(result.ExitCode == 0, $"{notebook} failed (exit {result.ExitCode}):\n{result.Output}\n{result.Error}");
        var executed = Path.Combine(outDirectory, notebook);
        Assert.Contains($"Executed copy with outputs: {executed}", result.Output);

        // dotnet-repl's exit code already reflects cell errors; the executed copy must also hold no error output.
        var cells = JsonNode.Parse(File.ReadAllText(executed))!["cells"]!.AsArray();
        foreach (var cell in cells)
        {
            foreach (var o in cell!["outputs"]?.AsArray() ?? [])
                Assert.NotEqual("error", o!["output_type"]?.GetValue<string>());
        }
    }

    private static void RunOrThrow(string directory, params string[] args)
    {
        var (code, output) = Run(directory, args);
        if (code != 0)
            throw new InvalidOperationException($"dotnet {string.Join(' ', args)} failed:\n{output}");
    }

    private static (int Code, string Output) Run(string directory, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', args)} did not finish in 5 minutes.");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
