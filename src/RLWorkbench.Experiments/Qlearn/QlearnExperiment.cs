using System.Globalization;
using System.Text.Json.Nodes;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Workflow;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Qlearn;

/// <summary>
/// One qlearn run through <see cref="QlearnSession"/>, continuing from the run directory's checkpoint when it holds
/// one. scores.json: on the simulated backend, the exact expected reward per task of the learned greedy routing
/// (Final: after the last iteration; Best: the best after any iteration; curve policy_value.csv). On the real and
/// replay backends, where no exact value exists, the mean adjusted reward of the last 10 iterations (Best: the best
/// such window; curve iterations.csv's adjusted_reward).
/// </summary>
public sealed class QlearnExperiment : IExperiment
{
    public const string PolicyValueTable = "policy_value";

    public static readonly string[] PolicyValueColumns = ["iteration", "expected_reward"];

    /// <summary>Iterations in the trailing mean used as the score when there is no exact value.</summary>
    public const int ScoreWindow = 10;

    private readonly QlearnInputs inputs;
    private readonly QlearnHost host;

    internal QlearnExperiment(QlearnOptions options, QlearnInputs inputs, QlearnHost host, JsonObject configuration)
    {
        Options = options;
        this.inputs = inputs;
        this.host = host;
        Configuration = configuration;
    }

    public string Kind => QlearnExperimentKind.KindName;

    public JsonObject Configuration { get; }

    /// <summary>The resolved settings.</summary>
    public QlearnOptions Options { get; }

    public async Task<ExperimentResult> RunAsync(Run run, IExperimentProgress progress, CancellationToken cancel)
    {
        var valuation = GreedyRoutingValue.For(Options);
        var reporting = new Reporting(run, progress, host.Time, valuation);
        QlearnResult result;
        try
        {
            result = await QlearnSession.RunAsync(run, Options, inputs, host, reporting, cancel);
        }
        catch (RoutingInputException e)
        {
            // Refused before anything was written: nothing left to do, or a cassette too short for what is left.
            throw new ExperimentConfigException(e.Message);
        }
        catch (Exception e)
        {
            if (run.Status == RunStatus.Running)
                run.Finish(RunStatus.Failed, e.Message);
            run.WriteJson(RunScores.FileName, Scores(run, reporting, valuation, finished: false, reporting.Done));
            throw;
        }

        var outcome = result.Outcome;
        var finished = outcome.Reason is StopReason.Completed or StopReason.Budget;
        var scores = Scores(run, reporting, valuation, finished, outcome.IterationsDone);
        try
        {
            run.WriteJson(RunScores.FileName, scores);
        }
        catch (IOException) when (outcome.Reason == StopReason.WriteFailed)
        {
            // The disk that stopped the run has no room for the scores either; the outcome below says why, and a resume writes them.
        }
        return outcome.Reason switch
        {
            StopReason.Completed => new ExperimentResult(ExperimentOutcome.Finished, scores),
            StopReason.Budget => new ExperimentResult(ExperimentOutcome.Finished, scores, $"Budget reached: {outcome.Message}"),
            StopReason.Cancelled => new ExperimentResult(ExperimentOutcome.Stopped, scores, $"Stopped after {outcome.IterationsDone} iterations; Q-table and logs are saved."),
            StopReason.CassetteExhausted => throw new ExperimentConfigException(outcome.Message + $" Iterations up to {outcome.IterationsDone} are saved in {run.Directory}."),
            StopReason.WriteFailed => new ExperimentResult(ExperimentOutcome.Failed, scores, $"{outcome.Message} The checkpoint holds {outcome.IterationsDone} iterations; make room and continue from there."),
            _ => new ExperimentResult(ExperimentOutcome.Failed, scores, $"{outcome.Message} The run stopped after {outcome.IterationsDone} iterations with everything saved."),
        };
    }

    private RunScores Scores(Run run, Reporting reporting, GreedyRoutingValue? valuation, bool finished, long done)
    {
        var perSecond = reporting.IterationsPerSecond;
        if (valuation is not null)
        {
            var values = ReadColumn(Path.Combine(run.Directory, PolicyValueTable + ".csv"), 1);
            return new RunScores(
                string.Create(CultureInfo.InvariantCulture, $"exact expected reward per task of the greedy routing (oracle {valuation.Oracle:0.0000})"),
                finished && values.Count > 0 ? values[^1] : null,
                values.Count > 0 ? values.Max() : null,
                done, "iterations", perSecond, new CurveSource(PolicyValueTable, "iteration", "expected_reward"));
        }
        var rewards = IterationRow.ReadCsv(Path.Combine(run.Directory, "iterations.csv")).Select(r => r.AdjustedReward).ToList();
        var windows = Enumerable.Range(0, Math.Max(0, rewards.Count - ScoreWindow + 1)).Select(i => rewards.Skip(i).Take(ScoreWindow).Average()).ToList();
        double? last = rewards.Count == 0 ? null : rewards.TakeLast(ScoreWindow).Average();
        return new RunScores(
            $"mean adjusted reward of the last {ScoreWindow} iterations",
            finished ? last : null,
            windows.Count > 0 ? windows.Max() : last,
            done, "iterations", perSecond, new CurveSource("iterations", "iteration", "adjusted_reward"));
    }

    private static List<double> ReadColumn(string path, int column)
    {
        if (!File.Exists(path))
            return [];
        var values = new List<double>();
        var line = 1;
        foreach (var text in File.ReadLines(path).Skip(1))
        {
            line++;
            if (text.Length == 0)
                continue;
            var fields = text.Split(',');
            values.Add(column < fields.Length && double.TryParse(fields[column], NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
                ? v
                : throw new RunFormatException($"{path} line {line}: column {column + 1} is not a number."));
        }
        return values;
    }

    /// <summary>Turns the session's reports into the experiment's progress, and values the greedy routing after every update.</summary>
    private sealed class Reporting(Run run, IExperimentProgress progress, TimeProvider time, GreedyRoutingValue? valuation) : IQlearnProgress
    {
        private MetricsTable? values;
        private long started;
        private int first;

        public int Done { get; private set; }

        public double? IterationsPerSecond { get; private set; }

        public void Started(QlearnOptions options, string runDirectory, int firstIteration, int total, RunPlan plan)
        {
            started = time.GetTimestamp();
            first = firstIteration;
            Done = firstIteration;
            progress.Started(Describe(options, runDirectory, firstIteration, total, plan), firstIteration, total, "iterations");
        }

        public void Iteration(IterationResult r, QLearningCoordinator coordinator, int total, double totalCostUsd)
        {
            Done++;
            var seconds = time.GetElapsedTime(started).TotalSeconds;
            IterationsPerSecond = seconds > 0 ? (Done - first) / seconds : null;
            progress.Advanced(Done, IterationsPerSecond ?? 0, Line(r, coordinator, total, totalCostUsd));
        }

        public void Notice(string message) => progress.Notice(message);

        /// <summary>What <see cref="Legend"/> explains, column by column.</summary>
        public static string Line(IterationResult r, QLearningCoordinator coordinator, int total, double totalCostUsd)
        {
            var d = r.Decision;
            var u = r.Update;
            var choice = d.Explored ? "explore" : "greedy ";
            // Each learner's own exploration state: Q-learning's epsilon (as the decision used it); a bandit's actions tried in this state.
            var exploration = coordinator.RoutingLearner.DescribeExploration(d.StateIndex, new TabularChoice(d.ActionIndex, d.Explored, d.Epsilon));
            return string.Create(CultureInfo.InvariantCulture,
                $"[{r.Iteration + 1,3}/{total}] {d.Task.Id,-3} {d.State,-24} -> {d.Chain.Label,-20} {choice} {exploration,-9} | judge {r.Verdict.Quality:0.00}{(r.Verdict.ParseFailure ? "?" : " ")} r {u.RawReward:0.000} pen {u.Penalty:0.000} adj {u.AdjustedReward:0.000} imb {u.Imbalance:0.00} | ${totalCostUsd:0.0000}");
        }

        /// <summary>Printed once before the first line, so every number on a line is defined where it is shown.</summary>
        public static string Legend(QlearnOptions options)
        {
            var exploration = options.Algorithm == RoutingAlgorithms.Composed
                ? "explore = not the chain with the best posterior mean; components k/n seen = how many of the n per-step components this state has routed through"
                : RoutingAlgorithms.IsBandit(options.Algorithm)
                ? "explore = not the action with the best sample mean; tried k/n = how many of the n actions this state has tried (untried ones go first)"
                : "explore = a random action (probability eps, the epsilon this decision used), greedy = the best Q-value";
            return string.Join('\n',
                "  each line: [iteration/total] task, state -> agent/provider, then",
                $"    {exploration};",
                "    judge = mean of the judge's four scores (? = its answer could not be parsed and counts 0.5, as in the seed);",
                "    r = raw reward (judge mean - cost and latency terms), pen = load penalty, adj = max(0, r - pen), the reward learned from;",
                "    imb = load imbalance (coefficient of variation of agent utilisation); $ = spend so far (agent and judge calls)");
        }

        public void Learned(QLearningCoordinator coordinator, int iterationsDone)
        {
            if (valuation is null)
                return;
            // Opened at the first update, so a run refused at its start leaves no table behind.
            values ??= run.Table(PolicyValueTable, PolicyValueColumns);
            values.AppendRow(iterationsDone, valuation.Of(coordinator));
        }

        private static string Describe(QlearnOptions options, string runDirectory, int firstIteration, int total, RunPlan plan)
        {
            var q = options.QLearning!;
            var rule = options.Algorithm switch
            {
                RoutingAlgorithms.Ucb1 => string.Create(CultureInfo.InvariantCulture, $"UCB1 exploration {options.Bandits.UcbExploration}, untried actions first"),
                RoutingAlgorithms.Thompson => string.Create(CultureInfo.InvariantCulture, $"Thompson noise {options.Bandits.ThompsonNoise}, untried actions first"),
                RoutingAlgorithms.Composed => string.Create(CultureInfo.InvariantCulture,
                    $"composed prior sd {options.Composed.PriorSd}, noise {options.Composed.Noise}, exploration {options.Composed.Exploration}{(options.Composed.WithPairs ? ", with pair components" : "")}"),
                _ => string.Create(CultureInfo.InvariantCulture, $"lr {q.LearningRate}, gamma {q.Gamma}, epsilon {q.EpsilonStart} x{q.EpsilonDecay} floor {q.EpsilonFloor}"),
            };
            var chains = options.ChainList();
            var routes = options.Chains.RoutesChains
                ? string.Create(CultureInfo.InvariantCulture, $", {chains.Count} chains of up to {chains.Max(c => c.Length)} steps")
                : "";
            var calls = options.Chains.RoutesChains ? "iterations x each step of the chain + judge" : "iterations x agent + judge";
            return string.Join('\n',
                string.Create(CultureInfo.InvariantCulture,
                    $"qlearn: {options.Learner} coordinator, {options.Algorithm}{routes}, {options.Backend} backend, iterations {firstIteration + 1}..{total}, seed {options.Seed}, concurrency {options.Concurrency}"),
                string.Create(CultureInfo.InvariantCulture,
                    $"  {rule}; window {options.Load.Window}; judge {options.JudgeProvider}; models {string.Join(", ", options.Providers.Select(p => $"{p.Key}={p.Value.Model}"))}"),
                string.Create(CultureInfo.InvariantCulture,
                    $"  reward {(options.Weights is { } w ? $"weights {w} (r = weighted sum without fairness, pen = fairness weight x fairness)" : "the seed's")}; state {options.State}{(options.ArrivalsPerMinute is { } a ? $"; {a} tasks arriving a minute" : "")}"),
                string.Create(CultureInfo.InvariantCulture,
                    $"  expected {plan.ExpectedCalls} calls ({plan.Iterations} {calls}), estimated cost ${plan.EstimatedCostUsd:0.0000} (worst case ${plan.WorstCaseCostUsd:0.0000}){(options.BudgetUsd is { } b ? $", budget ${BudgetGuard.Usd(b)}" : "")}"),
                $"  settings and results: {runDirectory}",
                Legend(options));
        }
    }
}
