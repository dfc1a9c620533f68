using System.CommandLine;
using System.Globalization;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Workflow;
using RLWorkbench.Tracking;

namespace RLWorkbench.Cli.Commands;

/// <summary>
/// `qlearn`: Phase 2, tabular Q-learning that routes tasks to (agent, provider) pairs. Simulated by default (no network,
/// no spend); --real calls OpenAI and Anthropic; --replay answers from a recorded cassette.
/// </summary>
public static class QlearnCommand
{
    public static Command Create()
    {
        var loadBalanced = new Option<bool>("--load-balanced") { Description = "Use the load-balanced coordinator (state = task type x load state, 50 iterations)." };
        var learner = new Option<string?>("--learner") { Description = $"How rewards become routing: {string.Join(", ", RoutingAlgorithms.All)} (default {RoutingAlgorithms.QLearning}, the seed's)." };
        var iterations = new Option<int?>("--iterations") { Description = "Iterations to run (default 30, or 50 with --load-balanced); with --resume, a new larger total." };
        var seed = new Option<long?>("--seed") { Description = "Seed for task picks, exploration and the simulated backend (default 42)." };
        var config = new Option<string?>("--config") { Description = "A JSON settings file (for example experiments/qlearn.json); command-line options override it." };
        var outDir = new Option<string?>("--out") { Description = "Run directory to create (default artifacts/runs/qlearn-<time>)." };
        var real = new Option<bool>("--real") { Description = "Call the real providers; keys come from OPENAI_API_KEY and ANTHROPIC_API_KEY (base URLs from OPENAI_BASE_URL, ANTHROPIC_BASE_URL)." };
        var budget = new Option<double?>("--budget-usd") { Description = "Hard spending cap in USD: the run stops before an iteration that could pass it." };
        var record = new Option<string?>("--record") { Description = "Append every exchange to this cassette (JSON lines)." };
        var replay = new Option<string?>("--replay") { Description = "Answer every call from this cassette: no network, no spend." };
        var resume = new Option<string?>("--resume") { Description = "Continue a stopped run (its directory or id)." };
        var concurrency = new Option<int?>("--concurrency") { Description = "Iterations in flight at once (default 1, the seed's sequential loop)." };
        var profile = new Option<string?>("--profile") { Description = "Simulation profile JSON (default experiments/profiles/default.json, embedded)." };
        var callSeconds = new Option<double?>("--simulated-call-seconds") { Description = "Wall-clock seconds each simulated call takes (for benchmarks; default 0)." };
        var command = new Command("qlearn", "Phase 2: Q-learning that routes tasks to LLM agents (simulated unless --real or --replay).")
        {
            loadBalanced, learner, iterations, seed, config, outDir, real, budget, record, replay, resume, concurrency, profile, callSeconds,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var options = QlearnConfig.Load(parse.GetValue(config));
                if (parse.GetValue(loadBalanced))
                    options = options with { Learner = LoadBalancedCoordinator.Name };
                if (parse.GetValue(learner) is { } algorithm)
                {
                    // Checked here too so the sentence names the flag's choices before any other setting is looked at.
                    if (!RoutingAlgorithms.All.Contains(algorithm))
                        throw new UsageException(RoutingAlgorithms.Unknown(algorithm));
                    options = options with { Algorithm = algorithm };
                }
                if (parse.GetValue(iterations) is { } n)
                    options = options with { Iterations = n };
                if (parse.GetValue(seed) is { } s)
                    options = options with { Seed = s };
                if (parse.GetValue(real))
                    options = options with { Backend = QlearnOptions.Backends.Real };
                if (parse.GetValue(budget) is { } b)
                    options = options with { BudgetUsd = b };
                if (parse.GetValue(record) is { } rec)
                    options = options with { Record = rec };
                if (parse.GetValue(replay) is { } rep)
                    options = options with { Replay = rep };
                if (parse.GetValue(concurrency) is { } k)
                    options = options with { Concurrency = k };
                if (parse.GetValue(profile) is { } p)
                    options = options with { Profile = p };
                if (parse.GetValue(callSeconds) is { } cs)
                    options = options with { SimulatedCallSeconds = cs };
                if (parse.GetValue(real) && options.Replay is not null)
                    throw new UsageException("--real and --replay cannot be combined: a replay makes no calls.");
                var output = parse.InvocationConfiguration.Output;
                var progress = new QlearnConsoleProgress(output);
                using var interrupt = new StopSignal(parse.InvocationConfiguration.Error, "Stopping: saving the Q-table and logs (Ctrl+C again to quit at once)...", cancellationToken);
                var result = await QlearnSession.RunAsync(
                    new QlearnRequest { Options = options, OutDirectory = parse.GetValue(outDir), ResumeDirectory = parse.GetValue(resume) },
                    progress,
                    interrupt.Token);
                output.WriteLine();
                output.Write(result.Report.Text);
                output.WriteLine();
                output.WriteLine($"Run saved in {result.RunDirectory}");
                RunPlots.WriteAfterRun(result.RunDirectory, output, parse.InvocationConfiguration.Error);
                switch (result.Outcome.Reason)
                {
                    case StopReason.Cancelled:
                        parse.InvocationConfiguration.Error.WriteLine($"Stopped after {result.Outcome.IterationsDone} iterations; Q-table and logs are saved. Continue with: qlearn --resume {result.RunDirectory}");
                        return CommandLine.Failure;
                    case StopReason.ProviderDown:
                        parse.InvocationConfiguration.Error.WriteLine($"error: {result.Outcome.Message} The run stopped after {result.Outcome.IterationsDone} iterations with everything saved; continue later with: qlearn --resume {result.RunDirectory}");
                        return CommandLine.Failure;
                    case StopReason.Budget:
                        output.WriteLine($"Budget reached: {result.Outcome.Message}");
                        return CommandLine.Ok;
                    default:
                        return CommandLine.Ok;
                }
            }
            catch (RoutingInputException e)
            {
                throw new UsageException(e.Message);
            }
        });
        return command;
    }
}

/// <summary>One line per iteration, written as each judge result returns.</summary>
internal sealed class QlearnConsoleProgress(TextWriter output) : IQlearnProgress
{
    private readonly Lock gate = new();

    public void Started(QlearnOptions options, string runDirectory, int firstIteration, int total, RunPlan plan)
    {
        lock (gate)
        {
            var q = options.QLearning!;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"qlearn: {options.Learner} coordinator, {options.Algorithm}, {options.Backend} backend, iterations {firstIteration + 1}..{total}, seed {options.Seed}, concurrency {options.Concurrency}"));
            var rule = options.Algorithm switch
            {
                RoutingAlgorithms.Ucb1 => string.Create(CultureInfo.InvariantCulture, $"UCB1 exploration {options.Bandits.UcbExploration}, untried actions first"),
                RoutingAlgorithms.Thompson => string.Create(CultureInfo.InvariantCulture, $"Thompson noise {options.Bandits.ThompsonNoise}, untried actions first"),
                _ => string.Create(CultureInfo.InvariantCulture, $"lr {q.LearningRate}, gamma {q.Gamma}, epsilon {q.EpsilonStart} x{q.EpsilonDecay} floor {q.EpsilonFloor}"),
            };
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {rule}; window {options.Load.Window}; judge {options.JudgeProvider}; models {string.Join(", ", options.Providers.Select(p => $"{p.Key}={p.Value.Model}"))}"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  expected {plan.ExpectedCalls} calls ({plan.Iterations} iterations x agent + judge), estimated cost ${plan.EstimatedCostUsd:0.0000} (worst case ${plan.WorstCaseCostUsd:0.0000}){(options.BudgetUsd is { } b ? $", budget ${b:0.00}" : "")}"));
            output.WriteLine($"  settings and results: {runDirectory}");
        }
    }

    public void Iteration(IterationResult r, int total, double totalCostUsd)
    {
        lock (gate)
        {
            var u = r.Update;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{r.Iteration + 1,3}/{total}] {r.Decision.Task.Id,-3} {r.Decision.State,-24} -> {r.Decision.Action.Label,-20}{(r.Decision.Explored ? " explore" : " greedy ")} q {r.Verdict.Quality:0.00}{(r.Verdict.ParseFailure ? "!" : " ")} r {u.RawReward:0.000} pen {u.Penalty:0.000} adj {u.AdjustedReward:0.000} eps {u.EpsilonAfter:0.000} imb {u.Imbalance:0.00} ${totalCostUsd:0.0000}"));
        }
    }

    public void Notice(string message)
    {
        lock (gate)
            output.WriteLine($"  ! {message}");
    }
}

/// <summary>The --config file, or the defaults when there is none.</summary>
internal static class QlearnConfig
{
    public static QlearnOptions Load(string? path) => path is null ? new QlearnOptions() : QlearnOptions.FromFile(path);
}
