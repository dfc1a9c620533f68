using System.CommandLine;
using RLWorkbench.Tracking;
using RLWorkbench.Tracking.Plots;

namespace RLWorkbench.Cli.Commands;

/// <summary>`plot <run>...` redraws a run's figures into its artifacts/plots/; `plot --compare` overlays runs.</summary>
public static class PlotCommand
{
    public static Command Create()
    {
        var runs = new Argument<string[]>("run") { Description = "Run ids under --root, or run directories.", Arity = ArgumentArity.OneOrMore };
        var compare = new Option<bool>("--compare") { Description = "Overlay the runs' curves in one figure; runs that differ only in seed become a mean with a +-std band." };
        var output = new Option<string?>("--out") { Description = "Where --compare writes its PNG (default: artifacts/plots/compare-<time>.png)." };
        var root = RunsCommand.RootOption();
        var command = new Command("plot", "Draw a run's figures as PNG files next to it (artifacts/plots/), or compare runs.") { runs, compare, output, root };
        command.SetAction(parseResult =>
        {
            var rootDir = parseResult.GetValue(root)!;
            var records = parseResult.GetValue(runs)!.Select(r => RunsCommand.Load(rootDir, r)).ToList();
            var writer = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                if (parseResult.GetValue(compare))
                {
                    if (records.Count < 2)
                        throw new UsageException("--compare needs at least two runs.");
                    var path = parseResult.GetValue(output)
                        ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(rootDir)) ?? ".", "plots", $"compare-{TimeProvider.System.GetUtcNow():yyyyMMdd-HHmmss}.png");
                    Report(ComparePlotter.Compare(records, path), writer, error);
                }
                else
                {
                    foreach (var record in records)
                        Report(RunPlotter.Plot(record), writer, error);
                }
            }
            catch (RunFormatException e)
            {
                throw new UsageException(e.Message);
            }
            return CommandLine.Ok;
        });
        return command;
    }

    private static void Report(PlotResult result, TextWriter output, TextWriter error)
    {
        foreach (var file in result.Files)
            output.WriteLine(file);
        foreach (var note in result.Notes)
            error.WriteLine($"note: {note}");
    }
}
