using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using RLWorkbench.Comparison;
using RLWorkbench.Ppo;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Tracking;

namespace RLWorkbench.Cli.Commands;

/// <summary>
/// `compare`: PPO against the seed's Q-learning (and bandits and baselines) on one simulated routing problem, with the
/// same budget of LLM calls for each, every learner's greedy policy valued exactly against the profile's oracle.
/// </summary>
public static class CompareCommand
{
    private static readonly JsonSerializerOptions ConfigJson = new(Run.Json)
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "A JSON settings file (experiments/compare.json, compare-load-balanced.json, compare-smoke.json); options below override it." };
        var loadBalanced = new Option<bool>("--load-balanced") { Description = "The load-balanced problem: state = task type x load state, rewards less the load penalty." };
        var learners = new Option<string[]>("--learner") { Description = $"Learners to run (repeat or separate with commas; default all): {string.Join(", ", LearnerNames.All)}.", AllowMultipleArgumentsPerToken = true };
        var seeds = new Option<int?>("--seeds") { Description = "Seeds per learner (default 10)." };
        var firstSeed = new Option<long?>("--first-seed") { Description = "The first seed; seed k is first-seed + k (default 1)." };
        var budget = new Option<int?>("--budget") { Description = "LLM calls per learner and seed, two per routed task (default 10000)." };
        var profile = new Option<string?>("--profile") { Description = "Simulation profile JSON (default: the embedded experiments/profiles/default.json)." };
        var outDir = new Option<string?>("--out") { Description = "Run directory to create (default artifacts/runs/compare-<time>)." };
        var command = new Command("compare", "Measure PPO against Q-learning, bandits and baselines on one routing problem, counted in LLM calls and dollars (simulated backend).")
        {
            config, loadBalanced, learners, seeds, firstSeed, budget, profile, outDir,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var options = LoadConfig(parse.GetValue(config));
            if (parse.GetValue(loadBalanced))
                options = options with { Problem = options.Problem with { Kind = LoadBalancedCoordinator.Name } };
            if (parse.GetValue(learners) is { Length: > 0 } names)
                options = options with { Learners = [.. names.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))] };
            if (parse.GetValue(seeds) is { } n)
                options = options with { Seeds = n };
            if (parse.GetValue(firstSeed) is { } fs)
                options = options with { FirstSeed = fs };
            if (parse.GetValue(budget) is { } b)
                options = options with { BudgetCalls = b };
            if (parse.GetValue(profile) is { } p)
                options = options with { Problem = options.Problem with { Profile = p } };
            using var stop = new StopSignal(parse.InvocationConfiguration.Error, "Stopping the comparison (Ctrl+C again to quit at once)...", cancellationToken);
            return Task.FromResult(Execute(options, parse.GetValue(outDir), parse.InvocationConfiguration.Output, stop.Token));
        });
        return command;
    }

    private static int Execute(ComparisonOptions options, string? outDirectory, TextWriter output, CancellationToken cancel)
    {
        RoutingProblem problem;
        try
        {
            if (options.FirstProblem() is { } problemText)
                throw new UsageException(problemText);
            problem = ComparisonRunner.BuildProblem(options.Problem);
            if (options.Ppo.Device is { } device && !ComputeDevice.IsKnown(device))
                throw new UsageException($"Unknown PPO device '{device}'; use one of {string.Join(", ", ComputeDevice.Choices)}.");
        }
        catch (Exception e) when (e is ComparisonInputException or RoutingInputException)
        {
            throw new UsageException(e.Message);
        }

        var run = outDirectory is null ? new RunStore(RunStore.DefaultRoot).Create(ComparisonReport.Kind) : RunStore.CreateAt(outDirectory, ComparisonReport.Kind);
        using (run)
        {
            run.WriteConfig(options);
            var budget = ComparisonRunner.CheckpointGrid(options.BudgetCalls, options.CheckpointGrowth)[^1];
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"compare: {options.Problem.Kind} problem, {problem.StateCount} states x {problem.ActionCount} actions, {budget:N0} LLM calls per learner and seed, {options.Seeds} seeds (first {options.FirstSeed}), simulated backend"));
            output.WriteLine($"  learners: {string.Join(", ", options.Learners)}");
            var t = options.Ppo.Trainer;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  PPO: {t.NumEnvs} envs x {t.StepsPerEnv} steps per rollout ({2 * t.RolloutSize} calls), minibatch {t.MinibatchSize}, {t.Epochs} epochs, lr {t.LearningRate}, gamma {t.Gamma}, lambda {t.GaeLambda}, networks [{string.Join(",", options.Ppo.SeedNetwork)}] and [{string.Join(",", options.Ppo.SmallNetwork)}]"));
            output.WriteLine($"  settings and results: {run.Directory}");
            var clock = Stopwatch.StartNew();
            ComparisonResult result;
            try
            {
                result = new ComparisonRunner(options, problem, SimulatedRoutingBackend.Factory).Run(new CompareConsoleProgress(output), cancel);
            }
            catch (OperationCanceledException)
            {
                run.Finish(RunStatus.Killed, "stopped by the user before every learner finished; nothing was summarised");
                throw;
            }
            catch (ComparisonInputException e)
            {
                run.Finish(RunStatus.Failed, e.Message);
                throw new UsageException(e.Message);
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  oracle expected reward {result.OracleValue:0.0000}, threshold {result.Threshold:0.0000}"));
            var written = ComparisonReport.Write(run, result, clock.Elapsed.TotalSeconds);
            output.WriteLine();
            output.Write(written.Markdown);
            output.WriteLine();
            output.WriteLine($"Run saved in {run.Directory}");
            run.Finish(RunStatus.Finished);
        }
        return CommandLine.Ok;
    }

    private static ComparisonOptions LoadConfig(string? path)
    {
        if (path is null)
            return new ComparisonOptions();
        if (!File.Exists(path))
            throw new UsageException($"The settings file '{path}' does not exist.");
        try
        {
            return JsonSerializer.Deserialize<ComparisonOptions>(File.ReadAllText(path), ConfigJson)
                ?? throw new UsageException($"The settings file '{path}' is empty.");
        }
        catch (JsonException e)
        {
            throw new UsageException($"The settings file '{path}' is not valid compare settings JSON ({e.Message}).");
        }
    }
}

/// <summary>One line per finished (learner, seed).</summary>
internal sealed class CompareConsoleProgress(TextWriter output) : IComparisonProgress
{
    public void SeedFinished(SeedRun run, int done, int total) =>
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  [{done,3}/{total}] {run.Learner,-12} seed {run.Seed,-4} final expected reward {run.Values[^1]:0.0000}  {run.CallsSpent:N0} calls  ${run.DollarsSpent:0.0000}  {run.WallSeconds:0.00} s"));
}
