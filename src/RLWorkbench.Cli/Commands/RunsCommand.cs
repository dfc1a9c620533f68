using System.CommandLine;
using System.Globalization;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Workflow;
using RLWorkbench.Tracking;
using RLWorkbench.Tracking.Mlflow;

namespace RLWorkbench.Cli.Commands;

/// <summary>`runs list`, `runs show <run>`: what is in the local run store; `runs rescore` scores a qlearn run again under other weights.</summary>
public static class RunsCommand
{
    public static Command Create()
    {
        var command = new Command("runs", "List, inspect and sync the runs kept under artifacts/runs.");
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CreateShow());
        command.Subcommands.Add(CreateSync());
        command.Subcommands.Add(CreateRescore());
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

    private static Command CreateRescore()
    {
        var root = RootOption();
        var run = new Argument<string>("run") { Description = "A qlearn run id under --root, or a run directory." };
        var weights = new Option<string>("--weights")
        {
            Description = $"The weights to score the run's recorded reward vectors with, for example {RewardWeights.Example}.",
            Required = true,
        };
        var command = new Command("rescore", "Score a qlearn run's tasks again under other weights from the reward vectors it recorded (no calls): the mean overall, per chain and per task type.")
        {
            run, weights, root,
        };
        command.SetAction(parseResult =>
        {
            var given = QlearnCommand.WeightsSetting(parseResult.GetValue(weights)!);
            var record = Load(parseResult.GetValue(root)!, parseResult.GetValue(run)!);
            Rescoring rescoring;
            try
            {
                rescoring = RunRescoring.Read(record.Directory, RewardWeights.Parse(given));
            }
            catch (RoutingInputException e)
            {
                throw new UsageException(e.Message);
            }
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Path.GetFileName(record.Directory)}: {rescoring.Tasks} tasks under {rescoring.Weights} (from the recorded vectors, no calls)"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"mean scalarised reward {rescoring.MeanReward:0.0000} (the run learned from a mean adjusted reward of {rescoring.RecordedMeanReward:0.0000})"));
            void Groups(string title, IReadOnlyList<RescoredGroup> groups)
            {
                output.WriteLine(title);
                var width = groups.Max(g => g.Name.Length);
                foreach (var g in groups)
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {g.Name.PadRight(width)} {g.Tasks,6} {g.MeanReward,9:0.0000}"));
            }
            Groups("by chain (tasks, mean):", rescoring.ByChain);
            Groups("by task type (tasks, mean):", rescoring.ByTaskType);
            return CommandLine.Ok;
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
