using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using RLWorkbench.Comparison;
using RLWorkbench.Ppo;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Workflow;
using RLWorkbench.Tracking;

namespace RLWorkbench.Cli.Commands;

/// <summary>
/// `compare`: PPO against the seed's Q-learning (and bandits and baselines) on one routing problem, with the same budget of
/// LLM calls for each, every learner's greedy policy valued exactly against the profile's oracle. Simulated by default;
/// --replay answers from a cassette, --real calls the providers under a hard --budget-usd.
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

    /// <summary>Where the answers come from and what a live run may spend.</summary>
    private sealed record BackendChoice(string Backend, string? Replay, string? Record, double? BudgetUsd);

    /// <param name="environment">Reads OPENAI_API_KEY and friends; tests pass their own so no real key is ever needed.</param>
    /// <param name="time">The clock of the live pipelines' retries and rate limits; tests pass one that does not wait.</param>
    public static Command Create(Func<string, string?>? environment = null, TimeProvider? time = null)
    {
        environment ??= System.Environment.GetEnvironmentVariable;
        time ??= TimeProvider.System;
        var config = new Option<string?>("--config") { Description = "A JSON settings file (experiments/compare.json, compare-load-balanced.json, compare-smoke.json); options below override it." };
        var loadBalanced = new Option<bool>("--load-balanced") { Description = "The load-balanced problem: state = task type x load state, rewards less the load penalty." };
        var learners = new Option<string[]>("--learner") { Description = $"Learners to run (repeat or separate with commas; default all): {string.Join(", ", LearnerNames.All)}.", AllowMultipleArgumentsPerToken = true };
        var seeds = new Option<int?>("--seeds") { Description = "Seeds per learner (default 10)." };
        var firstSeed = new Option<long?>("--first-seed") { Description = "The first seed; seed k is first-seed + k (default 1)." };
        var budget = new Option<int?>("--budget") { Description = "LLM calls per learner and seed, two per routed task (default 10000)." };
        var profile = new Option<string?>("--profile") { Description = "Simulation profile JSON (default: the embedded experiments/profiles/default.json)." };
        var outDir = new Option<string?>("--out") { Description = "Run directory to create (default artifacts/runs/compare-<time>)." };
        var real = new Option<bool>("--real") { Description = "Call the real providers (keys from OPENAI_API_KEY / ANTHROPIC_API_KEY); needs --budget-usd. Runs qlearn only unless --learner names others." };
        var budgetUsd = new Option<double?>("--budget-usd") { Description = "Hard cap in USD for --real: the comparison stops before a routed task whose worst case could pass it, keeping the finished seeds." };
        var replay = new Option<string?>("--replay") { Description = "Answer every call from this cassette (recorded with compare --record): no network, no keys, no spend." };
        var record = new Option<string?>("--record") { Description = "Append every exchange to this cassette, so the comparison can be replayed." };
        var command = new Command("compare", "Measure PPO against Q-learning, bandits and baselines on one routing problem, counted in LLM calls and dollars (simulated unless --real or --replay).")
        {
            config, loadBalanced, learners, seeds, firstSeed, budget, profile, outDir, real, budgetUsd, replay, record,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var options = LoadConfig(parse.GetValue(config));
            if (parse.GetValue(loadBalanced))
                options = options with { Problem = options.Problem with { Kind = LoadBalancedCoordinator.Name } };
            var named = parse.GetValue(learners) is { Length: > 0 } names;
            if (named)
                options = options with { Learners = [.. parse.GetValue(learners)!.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))] };
            var live = parse.GetValue(real);
            if (live && parse.GetValue(replay) is not null)
                throw new UsageException("--real and --replay cannot be combined: a replay makes no calls.");
            if (live && parse.GetValue(budgetUsd) is null)
                throw new UsageException("A live comparison needs a hard spending cap: add --budget-usd <dollars>.");
            if (!live && parse.GetValue(budgetUsd) is not null)
                throw new UsageException("--budget-usd caps what live calls spend; it needs --real.");
            if (parse.GetValue(budgetUsd) is < 0)
                throw new UsageException($"The budget must not be negative (got {parse.GetValue(budgetUsd)}).");
            if (parse.GetValue(replay) is not null && parse.GetValue(record) is not null)
                throw new UsageException("A comparison cannot both replay a cassette and record one.");
            // PPO spends thousands of calls before it learns anything, so live runs leave it out unless asked for by name.
            if (live && !named)
                options = options with { Learners = [LearnerNames.QLearning] };
            var backend = new BackendChoice(live ? "real" : parse.GetValue(replay) is not null ? "replay" : "simulated", parse.GetValue(replay), parse.GetValue(record), parse.GetValue(budgetUsd));
            if (parse.GetValue(seeds) is { } n)
                options = options with { Seeds = n };
            if (parse.GetValue(firstSeed) is { } fs)
                options = options with { FirstSeed = fs };
            if (parse.GetValue(budget) is { } b)
                options = options with { BudgetCalls = b };
            if (parse.GetValue(profile) is { } p)
                options = options with { Problem = options.Problem with { Profile = p } };
            using var stop = new StopSignal(parse.InvocationConfiguration.Error, "Stopping the comparison (Ctrl+C again to quit at once)...", cancellationToken);
            return Task.FromResult(Execute(options, backend, environment, time, parse.GetValue(outDir), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, stop.Token));
        });
        return command;
    }

    private static int Execute(ComparisonOptions options, BackendChoice choice, Func<string, string?> environment, TimeProvider time, string? outDirectory, TextWriter output, TextWriter error, CancellationToken cancel)
    {
        RoutingProblem problem;
        ProviderCredentials? credentials = null;
        IReadOnlyList<CassetteEntry>? cassette = null;
        try
        {
            if (options.FirstProblem() is { } problemText)
                throw new UsageException(problemText);
            problem = ComparisonRunner.BuildProblem(options.Problem);
            if (options.Ppo.Device is { } device && !ComputeDevice.IsKnown(device))
                throw new UsageException($"Unknown PPO device '{device}'; use one of {string.Join(", ", ComputeDevice.Choices)}.");
            // Keys and cassettes are checked before the run directory exists, so a refused run writes nothing.
            if (choice.Backend == "real")
                credentials = ProviderCredentials.FromEnvironment(problem.Actions.Select(a => a.Provider).Append(problem.Judge), environment);
            if (choice.Replay is not null)
            {
                cassette = Cassette.Read(choice.Replay);
                var needed = ExpectedCalls(options);
                if (cassette.Count < needed)
                    throw new UsageException($"The cassette {choice.Replay} holds {cassette.Count} exchanges; this comparison needs at least {needed:N0} ({options.Learners.Length} learners x {options.Seeds} seeds x {ComparisonRunner.CheckpointGrid(options.BudgetCalls, options.CheckpointGrowth)[^1]:N0} calls).");
            }
        }
        catch (Exception e) when (e is ComparisonInputException or RoutingInputException)
        {
            throw new UsageException(e.Message);
        }

        var ledger = new CallLedger();
        using var recorder = choice.Record is not null ? new CassetteWriter(choice.Record) : null;
        using var backends = choice.Backend switch
        {
            "real" => ComparisonBackends.Real(problem, ledger, recorder, credentials!, new BudgetGuard(choice.BudgetUsd!.Value), new ResilienceOptions(),
                time, new SeededRandomSource(options.FirstSeed ^ 0x5EED), message => output.WriteLine($"  ! {message}")),
            "replay" => ComparisonBackends.Replay(problem, ledger, cassette!, choice.Replay!),
            _ => choice.Record is not null ? ComparisonBackends.Simulated(problem, ledger, recorder) : null,
        };
        var factory = backends?.Factory ?? SimulatedRoutingBackend.Factory;

        var run = outDirectory is null ? new RunStore(RunStore.DefaultRoot).Create(ComparisonReport.Kind) : RunStore.CreateAt(outDirectory, ComparisonReport.Kind);
        using (run)
        {
            run.WriteConfig(options);
            run.SetTag("backend", choice.Backend);
            var budget = ComparisonRunner.CheckpointGrid(options.BudgetCalls, options.CheckpointGrowth)[^1];
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"compare: {options.Problem.Kind} problem, {problem.StateCount} states x {problem.ActionCount} actions, {budget:N0} LLM calls per learner and seed, {options.Seeds} seeds (first {options.FirstSeed}), {choice.Backend} backend"));
            if (choice.Backend == "real")
            {
                var plan = Plan(options, problem);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  expected {plan.ExpectedCalls:N0} calls ({options.Learners.Length} learners x {options.Seeds} seeds x {budget:N0}), estimated cost ${plan.EstimatedCostUsd:0.0000} (worst case ${plan.WorstCaseCostUsd:0.0000}), budget ${choice.BudgetUsd:0.00}: the comparison stops before a task that could pass it"));
                if (!options.Learners.Any(LearnerNames.IsPpo))
                    output.WriteLine("  PPO is left out of live runs unless named (--learner qlearn,ppo-small): its budget of calls is expensive.");
            }
            using var callLog = choice.Backend == "simulated" ? null : new StreamWriter(run.ArtifactPath("calls.jsonl"), append: true);
            if (callLog is not null)
                ledger.Added += record => { callLog.WriteLine(JsonSerializer.Serialize(record, CallLogJson)); callLog.Flush(); };
            output.WriteLine($"  learners: {string.Join(", ", options.Learners)}");
            var t = options.Ppo.Trainer;
            if (options.Learners.Any(LearnerNames.IsPpo))
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  PPO: {t.NumEnvs} envs x {t.StepsPerEnv} steps per rollout ({2 * t.RolloutSize} calls), minibatch {t.MinibatchSize}, {t.Epochs} epochs, lr {t.LearningRate}, gamma {t.Gamma}, lambda {t.GaeLambda}, networks [{string.Join(",", options.Ppo.SeedNetwork)}] and [{string.Join(",", options.Ppo.SmallNetwork)}]"));
            output.WriteLine($"  settings and results: {run.Directory}");
            var clock = Stopwatch.StartNew();
            ComparisonResult result;
            try
            {
                result = new ComparisonRunner(options, problem, factory).Run(new CompareConsoleProgress(output), cancel) with { Backend = choice.Backend };
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
            catch (CassetteExhaustedException e)
            {
                run.Finish(RunStatus.Failed, e.Message);
                throw new UsageException(e.Message);
            }
            catch (ProviderCallException e)
            {
                run.Finish(RunStatus.Failed, e.Message);
                output.WriteLine($"error: {e.Message} Nothing was summarised; the calls so far are in {run.ArtifactPath("calls.jsonl")}.");
                return CommandLine.Failure;
            }
            if (result.StoppedEarly is not null)
                output.WriteLine($"Budget reached: {result.StoppedEarly} Spent ${ledger.TotalCostUsd:0.0000}.");
            if (result.Runs.Count == 0)
            {
                run.Finish(RunStatus.Finished, "budget: " + result.StoppedEarly + " No seed finished, so there is nothing to summarise.");
                output.WriteLine($"No (learner, seed) run finished within the budget; the calls are in {run.ArtifactPath("calls.jsonl")}.");
                return CommandLine.Ok;
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  oracle expected reward {result.OracleValue:0.0000}, threshold {result.Threshold:0.0000}"));
            var written = ComparisonReport.Write(run, result, clock.Elapsed.TotalSeconds);
            output.WriteLine();
            output.Write(written.Markdown);
            output.WriteLine();
            output.WriteLine($"Run saved in {run.Directory}");
            run.Finish(RunStatus.Finished, result.StoppedEarly is null ? null : "budget: " + result.StoppedEarly);
        }
        RunPlots.WriteAfterRun(run.Directory, output, error);
        return CommandLine.Ok;
    }

    private static readonly JsonSerializerOptions CallLogJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Calls the comparison will make: every learner spends its budget on every seed (PPO can overshoot by part of a rollout).</summary>
    private static long ExpectedCalls(ComparisonOptions options) =>
        (long)options.Learners.Length * options.Seeds * ComparisonRunner.CheckpointGrid(options.BudgetCalls, options.CheckpointGrowth)[^1];

    /// <summary>The qlearn command's estimate (per routed task: one agent and one judge call) scaled to the comparison's calls.</summary>
    private static RunPlan Plan(ComparisonOptions options, RoutingProblem problem)
    {
        var settings = new QlearnOptions { Providers = options.Problem.Providers, JudgeProvider = options.Problem.JudgeProvider, Tasks = options.Problem.Tasks, Prices = options.Problem.Prices };
        var tasks = checked((int)(ExpectedCalls(options) / 2));
        return QlearnSession.Plan(settings, problem.Bank, problem.Prices, tasks);
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
