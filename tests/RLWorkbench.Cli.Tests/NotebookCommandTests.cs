using System.Text.Json.Nodes;
using RLWorkbench.Cli.Commands;

namespace RLWorkbench.Cli.Tests;

/// <summary>`rlw notebook`: runs a notebook with the checkout's dotnet-repl, keeps the executed copy and names failing cells.</summary>
public sealed class NotebookCommandTests : IDisposable
{
    // Inside the checkout, where dotnet tool run finds dotnet-repl, and under the git-ignored artifacts/.
    private readonly string scratch = Path.Combine(RepositoryPaths.Root, "artifacts", "test-notebooks", Guid.NewGuid().ToString("N"));

    public NotebookCommandTests() => Directory.CreateDirectory(scratch);

    public void Dispose() => Directory.Delete(scratch, recursive: true);

    private static JsonObject Cell(string source, params JsonNode[] outputs) => new()
    {
        ["cell_type"] = "code",
        ["metadata"] = new JsonObject { ["dotnet_interactive"] = new JsonObject { ["language"] = "csharp" } },
        ["execution_count"] = null,
        ["outputs"] = new JsonArray(outputs),
        ["source"] = new JsonArray(source),
    };

    private string Notebook(string name, params JsonObject[] cells)
    {
        var metadata = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "notebooks", "phase1-environment.ipynb")))!["metadata"]!.DeepClone();
        var notebook = new JsonObject
        {
            ["cells"] = new JsonArray([new JsonObject { ["cell_type"] = "markdown", ["metadata"] = new JsonObject(), ["source"] = new JsonArray("# A heading") }, .. cells]),
            ["metadata"] = metadata,
            ["nbformat"] = 4,
            ["nbformat_minor"] = 4,
        };
        var path = Path.Combine(scratch, name + ".ipynb");
        File.WriteAllText(path, notebook.ToJsonString());
        return path;
    }

    [Fact]
    public void A_failing_cell_is_exit_1_with_its_number_and_error_and_the_executed_copy_keeps_every_output()
    {
        var source = Notebook("fails",
            Cell("Console.WriteLine(\"before the error\");"),
            Cell("var answer = 42;\nthrow new InvalidOperationException(\"the data file is missing\");"),
            Cell("Console.WriteLine(\"after the error\");"));
        var outDir = Path.Combine(scratch, "out");
        var result = Workbench.RunIn(scratch, "notebook", source, "--out", outDir);

        Assert.Equal(1, result.ExitCode);
        var executed = Path.Combine(outDir, "fails.ipynb");
        Assert.Contains(
            $"error: code cell 2 of 3 (var answer = 42;) failed:{Environment.NewLine}  System.InvalidOperationException: the data file is missing{Environment.NewLine}"
            + $"1 of 3 code cells failed (", result.Error);
        Assert.EndsWith($"Executed copy with every cell's output: {executed}{Environment.NewLine}", result.Error);
        var cells = JsonNode.Parse(File.ReadAllText(executed))!["cells"]!.AsArray();
        Assert.Equal("before the error\n", cells[1]!["outputs"]![0]!["text"]!.AsArray().Single()!.GetValue<string>());
        Assert.Equal("error", cells[2]!["outputs"]![0]!["output_type"]!.GetValue<string>());
        // Nothing but the executed copy is left in the output directory.
        Assert.Equal([executed], Directory.GetFiles(outDir));
    }

    [Fact]
    public void A_notebook_that_runs_cleanly_says_so_and_where_its_executed_copy_is()
    {
        var source = Notebook("works", Cell("Console.WriteLine(6 * 7);"));
        var outDir = Path.Combine(scratch, "out");
        var result = Workbench.RunIn(scratch, "notebook", source, "--out", outDir);

        Assert.True(result.ExitCode == 0, result.Error);
        var executed = Path.Combine(outDir, "works.ipynb");
        Assert.Matches($@"^Running artifacts/test-notebooks/\w+/works\.ipynb with dotnet-repl \(it prints nothing while the cells run\)\.\.\.\n"
            + $@"All 1 code cells ran without an error \([0-9.]+ s\)\. Executed copy with outputs: {System.Text.RegularExpressions.Regex.Escape(executed)}\n$", result.Output);
        var cell = JsonNode.Parse(File.ReadAllText(executed))!["cells"]![1]!;
        Assert.Equal("42\n", cell["outputs"]![0]!["text"]!.AsArray().Single()!.GetValue<string>());
    }

    [Fact]
    public void An_unknown_notebook_is_a_usage_error_listing_the_notebooks()
    {
        var result = Workbench.RunIn(scratch, "notebook", "ppo-curves");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("error: notebook 'ppo-curves' is neither an .ipynb file nor one of notebooks/: compare-ppo-vs-qlearning, phase1-environment, "
            + "ppo-learning-curves, qlearn-routing-policy." + Environment.NewLine, result.Error);
        Assert.False(Directory.Exists(Path.Combine(scratch, "artifacts")));
    }

    [Fact]
    public void Errors_name_each_failing_code_cell_by_number_and_first_line_without_the_stack_trace()
    {
        var executed = new JsonObject
        {
            ["cells"] = new JsonArray(
                new JsonObject { ["cell_type"] = "markdown", ["source"] = "# Title" },
                Cell("\n// load\nvar x = 1;"),
                Cell("Plot(run);", new JsonObject
                {
                    ["output_type"] = "error",
                    ["ename"] = "Error",
                    ["evalue"] = "(1,1): error CS0103: The name 'Plot' does not exist in the current context",
                }),
                Cell("Explode();", new JsonObject
                {
                    ["output_type"] = "error",
                    ["ename"] = "Error",
                    ["evalue"] = "System.IO.FileNotFoundException: no run\r\n   at Submission#3.<<Initialize>>d__0.MoveNext()\r\n--- End of stack trace ---",
                })),
        };
        Assert.Equal(
        [
            new NotebookCommand.CellError(2, "Plot(run);", "(1,1): error CS0103: The name 'Plot' does not exist in the current context"),
            new NotebookCommand.CellError(3, "Explode();", "System.IO.FileNotFoundException: no run"),
        ], NotebookCommand.Errors(executed));
    }
}
