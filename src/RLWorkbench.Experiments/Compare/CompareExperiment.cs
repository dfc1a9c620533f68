using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RLWorkbench.Comparison;
using RLWorkbench.Comparison.Pareto;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Workflow;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Compare;

/// <summary>
/// One comparison (docs/compare.md) into a run: the backend the settings choose, every (learner, seed), the report
/// tables and summary.md. A comparison is not resumable: continuing an unfinished run directory starts it over.
/// scores.json is about the first learner of <c>learners</c>: Final is its final expected reward (mean over the
/// seeds), Best the best point of its mean curve, and the curve is primary_curve.csv.
/// </summary>
public sealed class CompareExperiment : IExperiment
{
    public const string PrimaryCurveTable = "primary_curve";

    /// <summary>The tables a comparison writes when it ends; an earlier unfinished attempt's are removed first.</summary>
    private static readonly string[] ReportTables = ["curves", "curve_summary", "seeds", "summary", PrimaryCurveTable,
        "pareto_runs", "pareto_summary", "pareto_hypervolume", "pareto_learners", "pareto_exact", "pareto_baselines", "pareto_optima", "pareto_offered"];

    private static readonly JsonSerializerOptions CallLogJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly RoutingProblem problem;
    private readonly ProviderCredentials? credentials;
    private readonly IReadOnlyList<CassetteEntry>? cassette;
    private readonly TimeProvider time;

    internal CompareExperiment(ComparisonOptions options, RoutingProblem problem, ProviderCredentials? credentials, IReadOnlyList<CassetteEntry>? cassette, TimeProvider time, JsonObject configuration)
    {
        Options = options;
        this.problem = problem;
        this.credentials = credentials;
        this.cassette = cassette;
        this.time = time;
        Configuration = configuration;
    }

    public string Kind => CompareExperimentKind.KindName;

    public JsonObject Configuration { get; }

    public ComparisonOptions Options { get; }

    /// <summary>Calls the comparison will make: every learner spends its budget on every seed (PPO can overshoot by part of a rollout).</summary>
    public static long ExpectedCalls(ComparisonOptions options) =>
        (long)options.Learners.Length * options.Seeds * (options.Weights?.Length ?? 1) * ComparisonRunner.CheckpointGrid(options.Budget, options.CheckpointGrowth)[^1];

    public Task<ExperimentResult> RunAsync(Run run, IExperimentProgress progress, CancellationToken cancel) =>
        // The comparison is synchronous work on this thread (PPO's libtorch settings expect one thread).
        Task.FromResult(Execute(run, progress, cancel));

    private ExperimentResult Execute(Run run, IExperimentProgress progress, CancellationToken cancel)
    {
        var options = Options;
        var backend = options.ResolvedBackend;
        foreach (var table in ReportTables)
            File.Delete(Path.Combine(run.Directory, table + ".csv"));
        File.Delete(run.ArtifactPath("calls.jsonl"));
        run.MarkRunning();
        run.WriteConfig(Configuration);
        run.SetTag("backend", backend);

        var ledger = new CallLedger();
        using var recorder = options.Record is not null ? new CassetteWriter(options.Record) : null;
        using var backends = backend switch
        {
            ComparisonOptions.Backends.Real => ComparisonBackends.Real(problem, ledger, recorder, credentials!, new BudgetGuard(options.BudgetUsd!.Value), new ResilienceOptions(),
                time, new SeededRandomSource(options.FirstSeed ^ 0x5EED), message => progress.Notice($"  ! {message}")),
            ComparisonOptions.Backends.Replay => ComparisonBackends.Replay(problem, ledger, cassette!, options.Replay!),
            _ => recorder is not null ? ComparisonBackends.Simulated(problem, ledger, recorder) : null,
        };
        var factory = backends?.Factory ?? SimulatedRoutingBackend.Factory;
        using var callLog = backend == ComparisonOptions.Backends.Simulated ? null : new StreamWriter(run.ArtifactPath("calls.jsonl"), append: true);
        if (callLog is not null)
            ledger.Added += record => { callLog.WriteLine(JsonSerializer.Serialize(record, CallLogJson)); callLog.Flush(); };

        var total = ExpectedCalls(options);
        progress.Started(Describe(run, backend), 0, total, "calls");
        var clock = Stopwatch.StartNew();
        var reporting = new Reporting(progress, clock);
        if (options.Weights is not null)
            return ExecutePareto(run, progress, reporting, clock, factory, cancel);
        ComparisonResult result;
        try
        {
            result = new ComparisonRunner(options, problem, factory).Run(reporting, cancel) with { Backend = backend };
        }
        catch (OperationCanceledException)
        {
            run.Finish(RunStatus.Killed, "stopped by the user before every learner finished; nothing was summarised");
            return End(run, ExperimentOutcome.Stopped, Unfinished(reporting, clock), "Stopped before every learner finished; nothing was summarised.");
        }
        catch (Exception e) when (e is ComparisonInputException or CassetteExhaustedException)
        {
            run.Finish(RunStatus.Failed, e.Message);
            run.WriteJson(RunScores.FileName, Unfinished(reporting, clock));
            throw new ExperimentConfigException(e.Message);
        }
        catch (ProviderCallException e)
        {
            run.Finish(RunStatus.Failed, e.Message);
            return End(run, ExperimentOutcome.Failed, Unfinished(reporting, clock), $"{e.Message} Nothing was summarised; the calls so far are in {run.ArtifactPath("calls.jsonl")}.");
        }
        catch (Exception e)
        {
            run.Finish(RunStatus.Failed, e.Message);
            run.WriteJson(RunScores.FileName, Unfinished(reporting, clock));
            throw;
        }

        if (result.StoppedEarly is not null)
            progress.Notice(string.Create(CultureInfo.InvariantCulture, $"Budget reached: {result.StoppedEarly} Spent ${ledger.TotalCostUsd:0.0000}."));
        if (result.Runs.Count == 0)
        {
            run.Finish(RunStatus.Finished, "budget: " + result.StoppedEarly + " No seed finished, so there is nothing to summarise.");
            return End(run, ExperimentOutcome.Finished, Unfinished(reporting, clock), $"No (learner, seed) run finished within the budget; the calls are in {run.ArtifactPath("calls.jsonl")}.");
        }
        progress.Notice(string.Create(CultureInfo.InvariantCulture, $"  oracle expected reward {result.OracleValue:0.0000}, threshold {result.Threshold:0.0000}"));
        if (problem.ProviderState is { } providerState)
            progress.Notice("  " + ComparisonReport.RateLimitedLine(result, providerState));
        if (ComparisonReport.FailedTasksLine(result) is { } failedTasks)
            progress.Notice("  " + failedTasks);
        var written = ComparisonReport.Write(run, result, clock.Elapsed.TotalSeconds);
        var scores = Finished(run, result, written, clock.Elapsed.TotalSeconds);
        run.Finish(RunStatus.Finished, result.StoppedEarly is null ? null : "budget: " + result.StoppedEarly);
        return End(run, ExperimentOutcome.Finished, scores, null);
    }

    /// <summary>The Pareto sweep (weights): its own tables and report; scores.json is the first learner's share of the exact fronts' hypervolume.</summary>
    private ExperimentResult ExecutePareto(Run run, IExperimentProgress progress, Reporting reporting, Stopwatch clock, RoutingBackendFactory factory, CancellationToken cancel)
    {
        ParetoResult result;
        try
        {
            result = new ParetoRunner(Options, problem, factory).Run(reporting, cancel);
        }
        catch (OperationCanceledException)
        {
            run.Finish(RunStatus.Killed, "stopped by the user before every weight vector finished; nothing was summarised");
            return End(run, ExperimentOutcome.Stopped, Unfinished(reporting, clock), "Stopped before every weight vector finished; nothing was summarised.");
        }
        catch (ComparisonInputException e)
        {
            run.Finish(RunStatus.Failed, e.Message);
            run.WriteJson(RunScores.FileName, Unfinished(reporting, clock));
            throw new ExperimentConfigException(e.Message);
        }
        catch (Exception e)
        {
            run.Finish(RunStatus.Failed, e.Message);
            run.WriteJson(RunScores.FileName, Unfinished(reporting, clock));
            throw;
        }
        var seconds = clock.Elapsed.TotalSeconds;
        var written = ParetoReport.Write(run, result, seconds);
        var calls = result.Runs.Sum(r => r.CallsSpent);
        var name = string.Create(CultureInfo.InvariantCulture,
            $"{Options.Learners[0]}: share of the exact (cost, quality) front's hypervolume its greedy policies over {Options.Weights!.Length} weight vectors cover at the end of the budget, mean over {Options.Seeds} seeds");
        var curve = run.Table(PrimaryCurveTable, ["calls", "cost_hypervolume_ratio"]);
        var primary = written.Fronts.FirstOrDefault(f => f.Learner == Options.Learners[0]);
        RunScores scores;
        if (primary is null)
        {
            scores = new RunScores(name, null, null, calls, "calls", PerSecond(calls, seconds), new CurveSource(PrimaryCurveTable, "calls", "cost_hypervolume_ratio"));
        }
        else
        {
            for (var k = 0; k < result.Checkpoints.Length; k++)
                curve.AppendRow(result.Checkpoints[k], primary.CostRatio[k].Mean);
            scores = new RunScores(name, primary.CostRatio[^1].Mean, primary.CostRatio.Max(p => p.Mean), calls, "calls", PerSecond(calls, seconds),
                new CurveSource(PrimaryCurveTable, "calls", "cost_hypervolume_ratio"));
        }
        run.Finish(RunStatus.Finished, null);
        return End(run, ExperimentOutcome.Finished, scores, null);
    }

    private static ExperimentResult End(Run run, ExperimentOutcome outcome, RunScores scores, string? message)
    {
        run.WriteJson(RunScores.FileName, scores);
        return new ExperimentResult(outcome, scores, message);
    }

    private string ScoreName(double? oracle) => string.Create(CultureInfo.InvariantCulture,
        $"{Options.Learners[0]}: exact expected reward per task of its greedy policy at the end of the budget, mean over {Options.Seeds} seeds{(oracle is { } o ? $" (oracle {o:0.0000})" : "")}");

    private RunScores Unfinished(Reporting reporting, Stopwatch clock) =>
        new(ScoreName(null), null, null, reporting.Calls, "calls", PerSecond(reporting.Calls, clock.Elapsed.TotalSeconds), new CurveSource(PrimaryCurveTable, "calls", "expected_reward"));

    /// <summary>The primary learner's mean curve as its own table, and the scores read from it.</summary>
    private RunScores Finished(Run run, ComparisonResult result, ComparisonReport.Written written, double seconds)
    {
        var calls = result.Runs.Sum(r => r.CallsSpent);
        var primary = written.Summaries.FirstOrDefault(s => s.Learner == Options.Learners[0]);
        var curve = run.Table(PrimaryCurveTable, ["calls", "expected_reward"]);
        if (primary is null)
            return new RunScores(ScoreName(result.OracleValue), null, null, calls, "calls", PerSecond(calls, seconds), new CurveSource(PrimaryCurveTable, "calls", "expected_reward"));
        for (var i = 0; i < result.Checkpoints.Length; i++)
            curve.AppendRow(result.Checkpoints[i], primary.Curve[i].Mean);
        return new RunScores(ScoreName(result.OracleValue), primary.FinalValue.Mean, primary.Curve.Max(p => p.Mean), calls, "calls", PerSecond(calls, seconds),
            new CurveSource(PrimaryCurveTable, "calls", "expected_reward"));
    }

    private static double? PerSecond(long calls, double seconds) => seconds > 0 ? calls / seconds : null;

    private string Describe(Run run, string backend)
    {
        var options = Options;
        var budget = ComparisonRunner.CheckpointGrid(options.Budget, options.CheckpointGrowth)[^1];
        var lines = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture,
                $"compare: {options.Problem.Kind} problem, {problem.StateCount} states x {problem.ActionCount} actions, {budget:N0} LLM calls per learner and seed, {options.Seeds} seeds (first {options.FirstSeed}), {backend} backend"),
        };
        if (backend == ComparisonOptions.Backends.Real)
        {
            var settings = new QlearnOptions { Providers = options.Problem.Providers, JudgeProvider = options.Problem.JudgeProvider, Tasks = options.Problem.Tasks, Prices = options.Problem.Prices };
            var plan = QlearnSession.Plan(settings, problem.Bank, problem.Prices, checked((int)(ExpectedCalls(options) / 2)));
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"  expected {plan.ExpectedCalls:N0} calls ({options.Learners.Length} learners x {options.Seeds} seeds x {budget:N0}), estimated cost ${plan.EstimatedCostUsd:0.0000} (worst case ${plan.WorstCaseCostUsd:0.0000}), budget ${options.BudgetUsd:0.00}: the comparison stops before a task that could pass it"));
            if (!options.Learners.Any(LearnerNames.IsPpo))
                lines.Add("  PPO is left out of live runs unless named (--learner qlearn,ppo-small): its budget of calls is expensive.");
        }
        if (problem.ProviderState is { } state)
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"  provider state: the profile's rate limits on a virtual clock, {state.ArrivalsPerMinute:0.##} tasks a minute, {state.Retries} retries of a 429; PPO sees each provider's headroom and latency ({problem.ObservationSize} inputs)"));
        }
        lines.Add($"  learners: {string.Join(", ", options.Learners)}");
        if (options.Weights is { } weights)
            lines.Add($"  Pareto sweep over {weights.Length} weight vectors: {string.Join("; ", weights.Select(w => w.ToString()))}");
        foreach (var learner in options.Learners.Where(LearnerNames.IsPpo))
        {
            var t = options.Ppo.TrainerFor(learner);
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"  {learner}: {t.RolloutSize:N0} tasks of the task stream per rollout ({t.NumEnvs} x {t.StepsPerEnv}, {2 * t.RolloutSize:N0} calls), minibatch {t.MinibatchSize}, {t.Epochs} epochs, lr {t.LearningRate}, gamma {t.Gamma}, lambda {t.GaeLambda}, network [{string.Join(",", t.HiddenSizes)}]"));
        }
        lines.Add($"  settings and results: {run.Directory}");
        return string.Join('\n', lines);
    }

    /// <summary>Only runs under provider state fail tasks on 429s, and only failing providers fail a chain part-way, so every other run's line stays as it was.</summary>
    private static string FailedTasks(SeedRun run) =>
        (run.RateLimitedTasks == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $"  {run.RateLimitedTasks:N0} tasks failed on 429"))
        + (run.FailedTasks == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $"  {run.FailedTasks:N0} tasks failed part-way"));

    /// <summary>One report per finished (learner, seed): the calls spent so far and the seed's line.</summary>
    private sealed class Reporting(IExperimentProgress progress, Stopwatch clock) : IComparisonProgress
    {
        public long Calls { get; private set; }

        public void SeedFinished(SeedRun run, int done, int total)
        {
            Calls += run.CallsSpent;
            var seconds = clock.Elapsed.TotalSeconds;
            progress.Advanced(Calls, seconds > 0 ? Calls / seconds : 0, string.Create(CultureInfo.InvariantCulture,
                $"  [{done,3}/{total}] {run.Learner,-12} seed {run.Seed,-4} final expected reward {run.Values[^1]:0.0000}  {run.CallsSpent:N0} calls  ${run.DollarsSpent:0.0000}  {run.WallSeconds:0.00} s{FailedTasks(run)}"));
        }
    }
}
