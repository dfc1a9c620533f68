using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Providers;
using RLWorkbench.Tracking;

namespace RLWorkbench.Routing.Workflow;

/// <summary>Where a qlearn run comes from and what it may touch (the environment and clock are passed in so tests control them).</summary>
public sealed record QlearnRequest
{
    public required QlearnOptions Options { get; init; }

    /// <summary>Run directory to create; null makes artifacts/runs/qlearn-&lt;time&gt;.</summary>
    public string? OutDirectory { get; init; }

    /// <summary>A run directory to continue; its config.json replaces Options (except a larger iteration total).</summary>
    public string? ResumeDirectory { get; init; }

    public string RunsRoot { get; init; } = RunStore.DefaultRoot;

    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Jitter for retry backoff; null seeds one from the run's seed.</summary>
    public IRandomSource? Jitter { get; init; }
}

/// <summary>What a qlearn run may touch besides its settings: the environment (API keys), the clock of retries and rate limits, and their jitter.</summary>
public sealed record QlearnHost
{
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Jitter for retry backoff; null seeds one from the run's seed.</summary>
    public IRandomSource? Jitter { get; init; }

    /// <summary>How a simulated call spends its --simulated-call-seconds; null is Task.Delay. Tests use it to stop a run inside a given call.</summary>
    public Func<TimeSpan, CancellationToken, Task>? SimulatedCallWait { get; init; }

    /// <summary>Opens artifacts/calls.jsonl to append; null is a file stream. Tests pass one that fails like a full disk.</summary>
    public Func<string, Stream>? OpenCallLog { get; init; }
}

/// <summary>The files a run reads, loaded and checked before anything is written.</summary>
public sealed record QlearnInputs(TaskBank Bank, PriceTable Prices, SimulationProfile? Profile, ProviderCredentials? Credentials, IReadOnlyList<CassetteEntry>? Cassette);

/// <summary>What the command shows as the run goes.</summary>
public interface IQlearnProgress
{
    void Started(QlearnOptions options, string runDirectory, int firstIteration, int total, RunPlan plan);

    /// <summary>After each iteration is logged; the coordinator is the one that learned from it (the table is whole).</summary>
    void Iteration(IterationResult result, QLearningCoordinator coordinator, int total, double totalCostUsd);

    void Notice(string message);

    /// <summary>After each iteration's update is applied (under the workflow's lock, so the table is whole), with the iterations done.</summary>
    void Learned(QLearningCoordinator coordinator, int iterationsDone) { }
}

/// <summary>The expected number of calls and what they should cost, printed before a real run spends anything.</summary>
public sealed record RunPlan(int Iterations, int ExpectedCalls, double EstimatedCostUsd, double WorstCaseCostUsd);

public sealed record QlearnResult(string RunDirectory, WorkflowOutcome Outcome, RoutingReport Report);

/// <summary>
/// One qlearn run end to end: resolve settings, build the chat pipelines, run the workflow, and keep the run directory
/// current after every iteration (rows, call log, checkpoint, Q-table) so Ctrl+C or a dead provider loses nothing.
/// </summary>
public static class QlearnSession
{
    public const string Kind = "qlearn";

    public static readonly IReadOnlyList<string> IterationColumns =
    [
        "iteration", "task_id", "task_type", "state", "load_state", "action", "agent", "provider",
        "relevance", "accuracy", "completeness", "agent_match", "quality", "raw_reward", "penalty", "adjusted_reward",
        "input_tokens", "output_tokens", "latency_s", "cost_usd", "judge_cost_usd", "epsilon",
        "util_researcher", "util_analyst", "util_coder", "util_validator", "imbalance", "parse_failure", "fairness",
    ];

    /// <summary>
    /// The command-line entry: resolves the settings (or a resumed run's), checks every input before the run directory
    /// exists, then creates or reopens the run and runs it.
    /// </summary>
    public static async Task<QlearnResult> RunAsync(QlearnRequest request, IQlearnProgress progress, CancellationToken cancellationToken)
    {
        // Everything that can be refused is checked before the run directory exists, so bad input writes nothing.
        var resume = request.ResumeDirectory is not null ? LoadResume(request) : null;
        var options = resume?.Options ?? request.Options.Resolve();
        var inputs = Prepare(options, request.Environment);
        CheckCanRun(options, inputs, resume?.Checkpoint.IterationsDone ?? 0);

        using var run = resume is not null ? RunStore.Open(resume.Directory) : request.OutDirectory is not null
            ? RunStore.CreateAt(request.OutDirectory, Kind)
            : CreateRun(new RunStore(request.RunsRoot), options);
        var result = await RunAsync(run, options, inputs, new QlearnHost { Environment = request.Environment, Time = request.Time, Jitter = request.Jitter }, progress, cancellationToken);
        if (result.Outcome.Reason == StopReason.CassetteExhausted)
            throw new RoutingInputException(result.Outcome.Message + $" Iterations up to {result.Outcome.IterationsDone} are saved in {run.Directory}.");
        return result;
    }

    /// <summary>
    /// What a run directory is named after: "qlearn" for the seed's Q-learning, "qlearn-ucb1" or "qlearn-thompson" for a
    /// bandit, so `runs list` tells them apart while the kind (status.json) stays qlearn for the plots and the readers.
    /// </summary>
    public static string RunName(QlearnOptions options) =>
        options.Algorithm == RoutingAlgorithms.QLearning ? Kind : $"{Kind}-{options.Algorithm}";

    /// <summary>A new run under the store's root named <see cref="RunName"/>-yyyyMMdd-HHmmss (the store adds a suffix if that is taken).</summary>
    public static Run CreateRun(RunStore store, QlearnOptions options) => store.Create(Kind, name: RunName(options));

    /// <summary>Loads the task bank, prices, profile, keys and cassette resolved settings name; a missing one is a <see cref="RoutingInputException"/>.</summary>
    public static QlearnInputs Prepare(QlearnOptions options, Func<string, string?> environment)
    {
        var bank = options.Tasks is null ? TaskBank.Default : TaskBank.Load(options.Tasks);
        var prices = options.Prices is null ? PriceTable.Default : PriceTable.Load(options.Prices);
        var profile = options.Backend == QlearnOptions.Backends.Simulated ? (options.Profile is null ? SimulationProfile.Default : SimulationProfile.Load(options.Profile)) : null;
        var limits = profile is not null && options.Profile is not null
            ? SimulatedRateLimits.LoadProfile(options.Profile) // its "rateLimits" section is refused here, before a run exists, rather than mid-run
            : SimulatedRateLimits.Unlimited;
        if (options.ArrivalsPerMinute is not null && limits.IsUnlimited)
            throw new RoutingInputException("arrivalsPerMinute needs a simulation profile with a \"rateLimits\" section (for example experiments/profiles/rate-limited.json): without limits, when tasks arrive changes nothing.");
        var credentials = options.Backend == QlearnOptions.Backends.Real ? ProviderCredentials.FromEnvironment(options.ProvidersCalled(), environment) : null;
        var cassette = options.Backend == QlearnOptions.Backends.Replay ? Cassette.Read(options.Replay!) : null;
        return new QlearnInputs(bank, prices, profile, credentials, cassette);
    }

    /// <summary>Refuses a run that has nothing left to do or a cassette too short for what is left.</summary>
    public static void CheckCanRun(QlearnOptions options, QlearnInputs inputs, int iterationsDone)
    {
        var total = options.Iterations!.Value;
        if (iterationsDone >= total)
            throw new RoutingInputException($"The run already did {iterationsDone} of {total} iterations; pass a larger --iterations to continue it.");
        // Each iteration takes one exchange per step of its chain and one for the judge, so the shortest chain on offer sets the floor.
        var perIteration = options.ChainList().Min(c => c.Length) + 1;
        var needed = (long)perIteration * (total - iterationsDone);
        if (inputs.Cassette is { } cassette && cassette.Count < needed)
            throw new RoutingInputException($"The cassette {options.Replay} holds {cassette.Count} exchanges; {total - iterationsDone} iterations need at least {needed}.");
    }

    /// <summary>The iterations a run directory's checkpoint says are done (0 without one).</summary>
    public static int IterationsDone(string runDirectory) => ReadCheckpoint(runDirectory)?.IterationsDone ?? 0;

    /// <summary>
    /// Runs resolved settings into an open run, continuing from the run's checkpoint when it holds one. Refusals
    /// (nothing left to do, a short cassette) come before anything is written. A cassette that runs out mid-run is
    /// the outcome <see cref="StopReason.CassetteExhausted"/>, with the run marked failed and everything so far saved.
    /// </summary>
    public static async Task<QlearnResult> RunAsync(Run run, QlearnOptions options, QlearnInputs inputs, QlearnHost host, IQlearnProgress progress, CancellationToken cancellationToken)
    {
        var checkpoint = ReadCheckpoint(run.Directory);
        var total = options.Iterations!.Value;
        var first = checkpoint?.IterationsDone ?? 0;
        CheckCanRun(options, inputs, first);
        var (bank, prices, profile, credentials, cassette) = inputs;
        var plan = Plan(options, bank, prices, total - first);

        // Restored before anything is repaired or marked: a coordinator that does not fit these settings refuses the
        // resume, and a refused resume leaves the run as it was.
        var random = new SeededRandomSource(options.Seed);
        if (checkpoint is not null)
            random.SetState(checkpoint.RandomState);
        // The health board is built with the pipelines below, after the checkpoint is restored; the state reads it once it exists.
        ProviderHealthBoard? health = null;
        var providerState = options.State == QlearnOptions.StateKinds.Health
            ? new ProviderStateReader(() => health!.Snapshot(), new HealthBuckets(options.HealthBuckets))
            : null;
        var coordinator = QLearningCoordinator.Create(options.Learner, options.QLearning!, options.Load, random, options.Algorithm, options.Bandits, options.ChainList(), providerState, options.Composed);
        if (checkpoint is not null)
        {
            try
            {
                coordinator.Restore(checkpoint.Coordinator);
            }
            catch (RoutingInputException e)
            {
                throw new RoutingInputException($"{CheckpointPath(run.Directory)} is not a usable qlearn checkpoint: {e.Message}", e);
            }
        }

        var ledger = new CallLedger();
        var history = new List<IterationRow>();
        // Repaired before the run is marked running or anything is appended: a process that died mid-write leaves a torn
        // last line, and rows logged after the checkpoint belong to iterations this run does again.
        ledger.AddRange(CallLog.Read(run.ArtifactPath(CallLog.FileName), progress.Notice));
        AddFairnessColumn(Path.Combine(run.Directory, "iterations.csv"), progress.Notice);
        foreach (var name in RowTables)
            KeepCheckpointedRows(Path.Combine(run.Directory, name + ".csv"), first, progress.Notice);
        history.AddRange(IterationRow.ReadCsv(Path.Combine(run.Directory, "iterations.csv")));

        run.MarkRunning();
        run.WriteConfig(options);
        run.SetTag("learner", options.Learner);
        run.SetTag("backend", options.Backend);
        run.SetTag("algorithm", options.Algorithm);

        using var callLog = CallLog.Open(run.ArtifactPath(CallLog.FileName), host.OpenCallLog);
        ledger.Added += callLog.Append;

        using var recorder = options.Record is not null ? new CassetteWriter(options.Record) : null;
        var budget = options.BudgetUsd is { } limit ? new BudgetGuard(limit, ledger.TotalCostUsd) : null;
        using var backends = ChatBackends.Build(options, host.Environment, host.Time, host.Jitter, prices, ledger, progress.Notice, recorder, profile, credentials, cassette, host.SimulatedCallWait, budget);
        var providers = backends.Providers;
        health = backends.Health;
        var arrivals = options.ArrivalsPerMinute is { } perMinute ? new TaskArrivals(backends.SimulatedClock!, perMinute, options.Seed) : null;
        var workflow = new RoutingWorkflow(bank, coordinator, providers, new CompositeReward(options.Reward), random, prices, budget, options.JudgeOutputChars, options.MaxFailedCalls, progress.Notice,
            options.Weights, arrivals);

        var table = run.Table("iterations", IterationColumns);
        var done = first;
        // The checkpoint is taken when an iteration completes, never from the live state at the end: by then the loop may
        // have drawn the task and action of an iteration that Ctrl+C dropped, and a resume must draw them again.
        var checkpointText = CheckpointText(coordinator, random, done);
        progress.Started(options, run.Directory, first, total, plan);
        var outcome = await workflow.RunAsync(first, total - first, options.Concurrency, result =>
        {
            var row = IterationRow.From(result);
            table.AppendRow(row.Values());
            history.Add(row);
            var count = done + 1;
            progress.Iteration(result, coordinator, total, ledger.TotalCostUsd);
            progress.Learned(coordinator, count);
            // Last, after every row of this iteration: a resume keeps exactly the rows the checkpoint counts.
            var text = CheckpointText(coordinator, random, count);
            AtomicFile.WriteAllText(run.ArtifactPath("checkpoint.json"), text);
            (checkpointText, done) = (text, count);
        }, cancellationToken);

        var report = RoutingReport.Build(options, coordinator, history, ledger.Summary(), profile, bank, prices, outcome);
        // Each closing file is tried on its own: after a failed write (a full disk) the others may still fit, and the
        // status must say failed whatever else could not be written. Every one is whole or absent (AtomicFile).
        var unwritten = new List<string>();
        void Save(string name, Action write)
        {
            try
            {
                write();
            }
            catch (IOException)
            {
                unwritten.Add(name);
            }
        }
        var learned = coordinator.SaveTable();
        Save(learned.JsonFileName, () => AtomicFile.WriteAllText(run.ArtifactPath(learned.JsonFileName), learned.Json));
        Save(learned.CsvFileName, () => AtomicFile.WriteAllText(run.ArtifactPath(learned.CsvFileName), learned.Csv));
        Save("checkpoint.json", () => AtomicFile.WriteAllText(run.ArtifactPath("checkpoint.json"), checkpointText));
        Save("summary.json", () => run.WriteJson("summary.json", report.Summary));
        Save("report.txt", () => AtomicFile.WriteAllText(run.ArtifactPath("report.txt"), report.Text));
        var (status, message) = outcome.Reason switch
        {
            StopReason.Completed => (RunStatus.Finished, (string?)null),
            StopReason.Budget => (RunStatus.Finished, "budget: " + outcome.Message),
            StopReason.Cancelled => (RunStatus.Killed, $"stopped by the user after {done} of {total} iterations; continue with --resume"),
            _ => (RunStatus.Failed, outcome.Message),
        };
        if (unwritten.Count > 0 && outcome.Reason != StopReason.WriteFailed)
            (status, message) = (RunStatus.Failed, $"could not write {string.Join(", ", unwritten)}" + (message is null ? "" : $"; {message}"));
        try
        {
            run.Finish(status, message);
        }
        catch (IOException e)
        {
            throw new IOException($"{message ?? "The run ended"}; its status.json could not be updated either ({e.Message}).", e);
        }
        return new QlearnResult(run.Directory, outcome with { IterationsDone = done }, report);
    }

    /// <summary>The tables that get one row per finished iteration.</summary>
    private static readonly string[] RowTables = ["iterations", "policy_value"];

    /// <summary>
    /// A run from before the fairness column is resumed with the column added, empty on its old rows (their fairness was not
    /// measured, and reads as unknown), so the rows this run appends fit the header.
    /// </summary>
    private static void AddFairnessColumn(string path, Action<string> notice)
    {
        if (!File.Exists(path))
            return;
        var text = File.ReadAllText(path);
        var header = text.Split('\n')[0];
        if (header != string.Join(',', IterationColumns.Take(IterationColumns.Count - 1)))
            return;
        var lines = text.Split('\n');
        // A torn last line (no newline) is left as it is, for the repair that follows to drop.
        var upgraded = lines.Select((line, i) => i == 0 ? string.Join(',', IterationColumns) : line.Length == 0 || i == lines.Length - 1 ? line : line + ",");
        AtomicFile.WriteAllText(path, string.Join('\n', upgraded));
        notice($"{path} is from before the fairness column; it is added, empty on the rows already there.");
    }

    /// <summary>
    /// Keeps a table's header and its first <paramref name="iterationsDone"/> rows, the ones the checkpoint counts (rows are
    /// appended in completion order, checkpoint last, at any concurrency); drops a torn last row and rows after the
    /// checkpoint, and says so. Fewer rows than the checkpoint counts is a run directory this workbench did not write.
    /// </summary>
    private static void KeepCheckpointedRows(string path, int iterationsDone, Action<string> notice)
    {
        if (!File.Exists(path))
            return;
        var text = File.ReadAllText(path);
        var lines = text.Split('\n');
        var complete = lines[..^1];
        if (lines[^1].Length > 0)
            notice($"{path}: the last row (line {lines.Length}) was cut short by a write that did not finish; it is dropped.");
        if (complete.Length == 0)
        {
            if (iterationsDone > 0)
                throw new RoutingInputException($"{path} has no header, but the checkpoint counts {iterationsDone} iterations.");
            File.Delete(path);
            return;
        }
        var rows = complete.Length - 1;
        // iterations.csv is what the report is computed from, so it must be whole; a shorter curve table (a run from before
        // the checkpoint came last) only misses points.
        if (rows < iterationsDone && Path.GetFileName(path) == "iterations.csv")
            throw new RoutingInputException($"{path} has {rows} rows, but the checkpoint counts {iterationsDone} iterations; the run directory is not one this workbench left.");
        if (rows < iterationsDone)
            notice($"{path} has {rows} rows where the checkpoint counts {iterationsDone} iterations; its curve misses the difference.");
        if (rows > iterationsDone)
            notice($"{path}: {rows - iterationsDone} rows after the checkpoint (iteration {iterationsDone}) are dropped; those iterations run again.");
        if (rows > iterationsDone || lines[^1].Length > 0)
            AtomicFile.WriteAllText(path, string.Join('\n', complete.Take(iterationsDone + 1)) + "\n");
    }

    /// <summary>
    /// Expected calls and cost: every iteration is one call per step of its chain (one for a single agent) and one judge call,
    /// averaged over the chains on offer; agents are assumed to use half their output allowance (a later step also reads half
    /// of the previous one's) and the judge 120 tokens. The worst case is the budget's own: the dearest chain's every call at
    /// its full allowance, so the plan printed before a paid run is the cap the run enforces.
    /// </summary>
    public static RunPlan Plan(QlearnOptions options, TaskBank bank, PriceTable prices, int iterations)
    {
        var settings = options.ProviderSettings();
        var judge = settings[RoutingNames.ParseProvider(options.JudgeProvider)];
        var chains = options.ChainList();
        double expected = 0, worst = 0;
        foreach (var task in bank.Tasks)
        {
            foreach (var chain in chains)
            {
                var previousTokens = 0;
                var agentCost = 0.0;
                for (var k = 0; k < chain.Length; k++)
                {
                    var step = chain.Steps[k];
                    var s = settings[step.Provider];
                    var agentIn = SimulatedChatClient.EstimateTokens(AgentPrompts.SystemPrompt(step.Agent)) + SimulatedChatClient.EstimateTokens(AgentPrompts.UserMessage(task)) + previousTokens;
                    agentCost += prices.Cost(s.Model, agentIn, s.MaxOutputTokens / 2);
                    previousTokens = s.MaxOutputTokens / 2;
                }
                var last = settings[chain.Last.Provider];
                var judgeIn = SimulatedChatClient.EstimateTokens(JudgePrompt.SystemPrompt + JudgePrompt.UserMessage(task, chain.Last.Agent, new string('x', Math.Min(options.JudgeOutputChars, last.MaxOutputTokens * 2))));
                // One sum per chain, as for a single agent (agent + judge), so a single-step plan is the seed run's to the bit.
                expected += agentCost + prices.Cost(judge.Model, judgeIn, Math.Min(120, judge.MaxOutputTokens));
                worst = Math.Max(worst, RoutedTaskExecutor.WorstCase(task, chain, p => settings[p], judge, prices, options.JudgeOutputChars).Total);
            }
        }
        var perIteration = expected / (bank.Count * chains.Count);
        var callsPerIteration = chains.Average(c => c.Length + 1.0);
        return new RunPlan(iterations, (int)Math.Round(callsPerIteration * iterations), perIteration * iterations, worst * iterations);
    }

    private static string CheckpointText(QLearningCoordinator coordinator, SeededRandomSource random, int done) =>
        JsonSerializer.Serialize(new Checkpoint(done, random.GetState(), coordinator.Snapshot()), Run.Json);

    private sealed record Checkpoint(int IterationsDone, ulong[] RandomState, CoordinatorSnapshot Coordinator);

    private sealed record Resume(string Directory, QlearnOptions Options, Checkpoint Checkpoint);

    private static string CheckpointPath(string runDirectory) => Path.Combine(runDirectory, "artifacts", "checkpoint.json");

    private static Checkpoint? ReadCheckpoint(string runDirectory)
    {
        var path = CheckpointPath(runDirectory);
        if (!File.Exists(path))
            return null;
        try
        {
            var checkpoint = JsonSerializer.Deserialize<Checkpoint>(File.ReadAllText(path), Run.Json)
                ?? throw new RoutingInputException($"{path} is empty.");
            return SettingLimits.QlearnCheckpoint(path, checkpoint.IterationsDone, checkpoint.RandomState, checkpoint.Coordinator) is { } problem
                ? throw new RoutingInputException(problem)
                : checkpoint;
        }
        catch (JsonException e)
        {
            throw new RoutingInputException($"{path} is not a qlearn checkpoint ({e.Message}).", e);
        }
    }

    private static Resume LoadResume(QlearnRequest request)
    {
        string dir;
        try
        {
            dir = new RunStore(request.RunsRoot).Resolve(request.ResumeDirectory!);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new RoutingInputException(e.Message, e);
        }
        var checkpointPath = Path.Combine(dir, "artifacts", "checkpoint.json");
        if (!File.Exists(checkpointPath))
            throw new RoutingInputException($"{dir} has no qlearn checkpoint to resume from.");
        var configPath = Path.Combine(dir, "config.json");
        QlearnOptions options;
        try
        {
            options = JsonSerializer.Deserialize<QlearnOptions>(File.ReadAllText(configPath), Run.Json)
                ?? throw new RoutingInputException($"{configPath} is empty.");
        }
        catch (JsonException e)
        {
            throw new RoutingInputException($"{configPath} is not qlearn settings ({e.Message}).", e);
        }
        var checkpoint = ReadCheckpoint(dir)!;
        var iterations = request.Options.Iterations is { } more && more > options.Iterations ? more : options.Iterations;
        return new Resume(dir, (options with { Iterations = iterations }).Resolve(), checkpoint);
    }
}

/// <summary>One iterations.csv row, also what the report is computed from (so a resumed run reports on all of it).</summary>
public sealed record IterationRow(
    int Iteration, string TaskId, string TaskType, string State, string LoadState, int Action, string Agent, string Provider,
    double Relevance, double Accuracy, double Completeness, double AgentMatch, double Quality, double RawReward, double Penalty, double AdjustedReward,
    long InputTokens, long OutputTokens, double LatencySeconds, double CostUsd, double JudgeCostUsd, double Epsilon,
    double UtilResearcher, double UtilAnalyst, double UtilCoder, double UtilValidator, double Imbalance, bool ParseFailure, double? Fairness)
{
    /// <summary>
    /// The task's reward vector: quality, the agent calls' cost and latency, fairness; null for a row written before the
    /// fairness column existed, whose fairness was not measured.
    /// </summary>
    public RewardVector? Vector => Fairness is { } f ? new RewardVector(Quality, CostUsd, LatencySeconds, f) : null;

    public static IterationRow From(IterationResult r)
    {
        var d = r.Decision;
        var v = r.Verdict;
        var u = r.Update.Utilisations;
        // A chain's agents and providers in step order ("researcher>validator", "openai>anthropic"); one step is the seed's row.
        return new IterationRow(
            r.Iteration + 1, d.Task.Id, d.Task.Type.Name(), d.State, d.LoadState, d.ActionIndex,
            string.Join(RoutingChain.Separator, d.Chain.Steps.Select(a => a.Agent.Name())), string.Join(RoutingChain.Separator, d.Chain.Steps.Select(a => a.Provider.Name())),
            v.Relevance, v.Accuracy, v.Completeness, v.AgentMatch, v.Quality, r.Update.RawReward, r.Update.Penalty, r.Update.AdjustedReward,
            r.Agent.InputTokens, r.Agent.OutputTokens, r.Agent.LatencySeconds, r.Agent.CostUsd, r.Judge.CostUsd, d.Epsilon,
            u[0], u[1], u[2], u[3], r.Update.Imbalance, v.ParseFailure,
            // A chain that failed part-way was never assigned, so its choice cost no fairness.
            r.Update.Vector?.Fairness ?? 0.0);
    }

    public object?[] Values() =>
    [
        Iteration, TaskId, TaskType, State, LoadState, Action, Agent, Provider,
        Relevance, Accuracy, Completeness, AgentMatch, Quality, RawReward, Penalty, AdjustedReward,
        InputTokens, OutputTokens, LatencySeconds, CostUsd, JudgeCostUsd, Epsilon,
        UtilResearcher, UtilAnalyst, UtilCoder, UtilValidator, Imbalance, ParseFailure, Fairness,
    ];

    public IEnumerable<KeyValuePair<string, object?>> ValuesByColumn() =>
        QlearnSession.IterationColumns.Zip(Values(), (k, v) => new KeyValuePair<string, object?>(k, v));

    /// <summary>The rows of an iterations.csv; a last row without its newline (a write cut short) is not a row yet and is left out.</summary>
    public static IEnumerable<IterationRow> ReadCsv(string path)
    {
        if (!File.Exists(path))
            yield break;
        var lines = File.ReadAllText(path).Split('\n');
        if (lines.Length < 3)
            yield break;
        var number = 1;
        foreach (var line in lines[1..^1])
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            var f = line.Split(',');
            // A run from before the fairness column has one field fewer (or, resumed since, an empty one): its fairness is unknown.
            if (f.Length != QlearnSession.IterationColumns.Count && f.Length != QlearnSession.IterationColumns.Count - 1)
                throw new RoutingInputException($"{path} line {number} has {f.Length} fields where an iterations row has {QlearnSession.IterationColumns.Count}.");
            double D(int i) => double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
                : throw new RoutingInputException($"{path} line {number}, column '{QlearnSession.IterationColumns[i]}': '{f[i]}' is not a number.");
            long L(int i) => long.TryParse(f[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
                : throw new RoutingInputException($"{path} line {number}, column '{QlearnSession.IterationColumns[i]}': '{f[i]}' is not a whole number.");
            yield return new IterationRow(
                (int)L(0), f[1], f[2], f[3], f[4], (int)L(5), f[6], f[7],
                D(8), D(9), D(10), D(11), D(12), D(13), D(14), D(15),
                L(16), L(17), D(18), D(19), D(20), D(21),
                D(22), D(23), D(24), D(25), D(26), f[27] == "true", f.Length > 28 && f[28].Length > 0 ? D(28) : null);
        }
    }
}
