using System.CommandLine;
using RLWorkbench.Tracking;
using RLWorkbench.Tracking.Mlflow;

namespace RLWorkbench.Cli.Commands;

/// <summary>`runs list`, `runs show <run>`: what is in the local run store.</summary>
public static class RunsCommand
{
    public static Command Create()
    {
        var command = new Command("runs", "List, inspect and sync the runs kept under artifacts/runs.");
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CreateShow());
        command.Subcommands.Add(CreateSync());
        return command;
    }

    internal static Option<string> RootOption() => new("--root")
    {
        Description = "The directory runs are kept in.",
        DefaultValueFactory = _ => RunStore.DefaultRoot,
    };

    private static Command CreateList()
    {
        var root = RootOption();
        var kind = new Option<string?>("--kind") { Description = "Only runs of this kind (ppo, qlearn, compare, env-run, ...)." };
        var status = new Option<string?>("--status") { Description = $"Only runs in this status: {string.Join(", ", RunListFilter.Statuses)} (stale: said running, but no process holds it)." };
        var match = new Option<string?>("--match") { Description = "Only runs whose id or algorithm contains this text (any case)." };
        var command = new Command("list", "One line per run, newest first: id, kind, status, start, duration, algorithm, seed and final score (each kind's score named below the table).")
        {
            root, kind, status, match,
        };
        command.SetAction(parseResult =>
        {
            var filter = new RunListFilter(parseResult.GetValue(kind), parseResult.GetValue(status), parseResult.GetValue(match));
            if (filter.Problem() is { } problem)
                throw new UsageException(problem);
            var all = RunReader.List(parseResult.GetValue(root)!);
            var shown = filter.Apply(all);
            var output = parseResult.InvocationConfiguration.Output;
            if (shown.Count == 0 && all.Count > 0)
            {
                output.WriteLine($"No runs match; {all.Count} runs under {parseResult.GetValue(root)} (kinds: {string.Join(", ", all.Select(r => r.Info?.Kind).OfType<string>().Distinct().Order(StringComparer.Ordinal))}).");
                return CommandLine.Ok;
            }
            RunReport.WriteList(output, shown, TimeProvider.System.GetUtcNow());
            return CommandLine.Ok;
        });
        return command;
    }

    private static Command CreateShow()
    {
        var root = RootOption();
        var run = new Argument<string>("run") { Description = "A run id under --root, or a run directory." };
        var command = new Command("show", "A run's status, configuration, last metric values and artifacts.") { run, root };
        command.SetAction(parseResult =>
        {
            var record = Load(parseResult.GetValue(root)!, parseResult.GetValue(run)!);
            var unreadable = RunReport.WriteShow(parseResult.InvocationConfiguration.Output, record, TimeProvider.System.GetUtcNow());
            if (unreadable.Count == 0)
                return CommandLine.Ok;
            // Everything readable was shown; the exit code still says the run's files are not as written.
            foreach (var message in unreadable)
                parseResult.InvocationConfiguration.Error.WriteLine($"error: {message}");
            return CommandLine.UsageError;
        });
        return command;
    }

    private static Command CreateSync()
    {
        var root = RootOption();
        var run = new Argument<string>("run") { Description = "A run id under --root, or a run directory." };
        var command = new Command("sync", "Push a finished run to the MLflow server MLFLOW_TRACKING_URI names: whatever did not reach it while the run went.") { run, root };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var record = Load(parseResult.GetValue(root)!, parseResult.GetValue(run)!);
            MlflowOptions options;
            try
            {
                options = MlflowOptions.FromEnvironment(Environment.GetEnvironmentVariable)
                    ?? throw new UsageException($"{MlflowOptions.TrackingUriVariable} is not set; set it to the MLflow server to push to (and {MlflowOptions.ExperimentNameVariable} for the experiment).");
            }
            catch (MlflowConfigurationException e)
            {
                throw new UsageException(e.Message);
            }
            using var client = new MlflowClient(options);
            SyncReport report;
            try
            {
                report = await RunSync.PushAsync(record.Directory, client, cancellationToken);
            }
            catch (RunFormatException e)
            {
                throw new UsageException(e.Message);
            }
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine($"{report.RunId} -> {options}, run {report.MlflowRunId}: {report.RowsSent} rows and {report.ArtifactsUploaded} artifacts sent.");
            if (report.Stale)
                output.WriteLine("The run is stale (its process died without recording an end), so MLflow records it as KILLED, ended at its last write.");
            foreach (var error in report.Errors)
                parseResult.InvocationConfiguration.Error.WriteLine($"warning: {error}");
            return report.Errors.Count == 0 ? CommandLine.Ok : CommandLine.Failure;
        });
        return command;
    }

    /// <summary>Finds and reads a run; a run that is not there or not a run is the caller's mistake (exit code 2).</summary>
    internal static RunRecord Load(string root, string runOrPath)
    {
        try
        {
            // A directory given by path is read as it is, so one without status.json is named as such.
            return RunReader.Read(Directory.Exists(runOrPath) ? runOrPath : new RunStore(root).Resolve(runOrPath));
        }
        catch (Exception e) when (e is DirectoryNotFoundException or RunFormatException)
        {
            throw new UsageException(e.Message);
        }
    }
}
