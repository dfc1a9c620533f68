using System.CommandLine;
using System.Text.Json.Nodes;
using RLWorkbench.Experiments;
using RLWorkbench.Experiments.Qlearn;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Workflow;
using RLWorkbench.Tracking;

namespace RLWorkbench.Cli.Commands;

/// <summary>
/// `qlearn`: Phase 2, tabular Q-learning that routes tasks to (agent, provider) pairs. Binds its options into a
/// <see cref="QlearnExperimentKind"/> configuration and runs the experiment. Simulated by default (no network, no
/// spend); --real calls OpenAI and Anthropic; --replay answers from a recorded cassette.
/// </summary>
public static class QlearnCommand
{
    public static Command Create()
    {
        var loadBalanced = new Option<bool>("--load-balanced") { Description = "Use the load-balanced coordinator (state = task type x load state, 50 iterations)." };
        var learner = new Option<string?>("--learner") { Description = $"How rewards become routing: {string.Join(", ", RoutingAlgorithms.All)} (default {RoutingAlgorithms.QLearning}, the seed's)." };
        var iterations = new Option<int?>("--iterations") { Description = "Iterations to run (default 30, or 50 with --load-balanced); with --resume, a new larger total." }.AnyNumber();
        var seed = new Option<long?>("--seed") { Description = "Seed for task picks, exploration and the simulated backend (default 42)." }.AnyNumber();
        var config = new Option<string?>("--config") { Description = "A JSON settings file (for example experiments/qlearn.json); command-line options and --set override it." };
        var outDir = new Option<string?>("--out") { Description = "Run directory to create (default artifacts/runs/qlearn-<time>)." };
        var real = new Option<bool>("--real") { Description = "Call the real providers; keys come from OPENAI_API_KEY and ANTHROPIC_API_KEY (base URLs from OPENAI_BASE_URL, ANTHROPIC_BASE_URL)." };
        var budget = new Option<double?>("--budget-usd") { Description = "Hard spending cap in USD: the run stops before an iteration that could pass it." }.AnyNumber();
        var record = new Option<string?>("--record") { Description = "Append every exchange to this cassette (JSON lines)." };
        var replay = new Option<string?>("--replay") { Description = "Answer every call from this cassette: no network, no spend." };
        var resume = new Option<string?>("--resume") { Description = "Continue a stopped run (its directory or id)." };
        var concurrency = new Option<int?>("--concurrency") { Description = "Iterations in flight at once (default 1, the seed's sequential loop)." }.AnyNumber();
        var profile = new Option<string?>("--profile") { Description = "Simulation profile JSON (default experiments/profiles/default.json, embedded)." };
        var callSeconds = new Option<double?>("--simulated-call-seconds") { Description = "Wall-clock seconds each simulated call takes (for benchmarks; default 0)." }.AnyNumber();
        var chains = new Option<string?>("--chains")
        {
            Description = "Route chains of distinct agents: a longest length (2 or 3: every chain up to it; 1 is the seed's single agents), or the chains allowed, comma-separated "
                + "(for example \"researcher/openai>validator/anthropic,coder/openai\"). Each step gets the task and the previous answer; the judge scores the last.",
        };
        var weights = new Option<string?>("--weights")
        {
            Description = $"Learn a weighted sum of the reward vector instead of the seed's reward, for example {RewardWeights.Example} "
                + "(objectives quality, cost in USD, latency in seconds, fairness; one not named weighs 0).",
        };
        var set = ExperimentOptions.Set();
        var seeds = SeedSweep.Option();
        var command = new Command("qlearn", "Phase 2: Q-learning that routes tasks to LLM agents (simulated unless --real or --replay).")
        {
            loadBalanced, learner, iterations, seed, config, outDir, real, budget, record, replay, resume, concurrency, profile, callSeconds, chains, weights, set, seeds,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            // Checked here too so the sentence names the flag's choices before any other setting is looked at.
            if (parse.GetValue(learner) is { } algorithm && !RoutingAlgorithms.All.Contains(algorithm))
                throw new UsageException(RoutingAlgorithms.Unknown(algorithm));
            if (parse.GetValue(real) && parse.GetValue(replay) is not null)
                throw new UsageException("--real and --replay cannot be combined: a replay makes no calls.");
            // Read here so bad weights are one sentence and exit 2 before any setting is bound or any call made.
            var weightsText = parse.GetValue(weights) is { } weightsGiven ? WeightsSetting(weightsGiven) : null;
            SeedSweep.CheckOptions(parse.GetValue(seeds), ("--resume", parse.GetValue(resume) is not null), ("--seed", parse.GetValue(seed) is not null));

            var kind = new QlearnExperimentKind();
            var store = new RunStore(RunStore.DefaultRoot);
            string? resumeDirectory = null;
            JsonObject configuration;
            if (parse.GetValue(resume) is { } resumed)
            {
                // The saved settings are what continues; an option that would be dropped silently (a budget, above all)
                // is refused, and --set is the one way to change a saved setting.
                foreach (var (name, given) in new (string, bool)[]
                {
                    ("--load-balanced", parse.GetValue(loadBalanced)), ("--learner", parse.GetValue(learner) is not null), ("--seed", parse.GetValue(seed) is not null),
                    ("--config", parse.GetValue(config) is not null), ("--out", parse.GetValue(outDir) is not null), ("--real", parse.GetValue(real)),
                    ("--budget-usd", parse.GetValue(budget) is not null), ("--record", parse.GetValue(record) is not null), ("--replay", parse.GetValue(replay) is not null),
                    ("--concurrency", parse.GetValue(concurrency) is not null), ("--profile", parse.GetValue(profile) is not null),
                    ("--simulated-call-seconds", parse.GetValue(callSeconds) is not null), ("--chains", parse.GetValue(chains) is not null),
                    ("--weights", weightsText is not null),
                })
                {
                    if (given)
                        throw new UsageException($"--resume continues with the run's saved configuration, so {name} cannot be given with it; change a saved setting with --set (for example --set budgetUsd=0.5).");
                }
                try
                {
                    resumeDirectory = store.Resolve(resumed);
                }
                catch (DirectoryNotFoundException e)
                {
                    throw new UsageException(e.Message);
                }
                if (!File.Exists(Path.Combine(resumeDirectory, "artifacts", "checkpoint.json")))
                    throw new UsageException($"{resumeDirectory} has no qlearn checkpoint to resume from.");
                // The run continues with its saved settings; only a larger iteration total (and --set) applies.
                configuration = kind.Load(Path.Combine(resumeDirectory, "config.json"));
                ExperimentOptions.Apply(configuration, ExperimentOptions.Given(parse, iterations, "iterations"), parse.GetValue(set));
            }
            else
            {
                configuration = parse.GetValue(config) is { } file ? kind.Load(file) : kind.Defaults();
                ExperimentOptions.Apply(configuration,
                [
                    .. parse.GetValue(loadBalanced) ? [("learner", JsonValue.Create(LoadBalancedCoordinator.Name))] : Array.Empty<(string, JsonNode?)>(),
                    .. ExperimentOptions.Given(parse, learner, "algorithm"),
                    .. ExperimentOptions.Given(parse, iterations, "iterations"),
                    .. ExperimentOptions.Given(parse, seed, "seed"),
                    .. parse.GetValue(real) ? [("backend", JsonValue.Create(QlearnOptions.Backends.Real))] : Array.Empty<(string, JsonNode?)>(),
                    .. ExperimentOptions.Given(parse, budget, "budgetUsd"),
                    .. ExperimentOptions.Given(parse, record, "record"),
                    .. ExperimentOptions.Given(parse, replay, "replay"),
                    .. ExperimentOptions.Given(parse, concurrency, "concurrency"),
                    .. ExperimentOptions.Given(parse, profile, "profile"),
                    .. ExperimentOptions.Given(parse, callSeconds, "simulatedCallSeconds"),
                    .. ChainSettings(parse.GetValue(chains)),
                    .. weightsText is null ? Array.Empty<(string, JsonNode?)>() : [("weights", JsonValue.Create(weightsText))],
                ], parse.GetValue(set));
            }
            var experiment = kind.Create(configuration);
            if (parse.GetValue(seeds) is { } seedList)
                return SeedSweep.Run(kind, configuration, seedList, parse.GetValue(outDir), plain: false, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);

            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            using var interrupt = new StopSignal(error, "Stopping: saving the Q-table and logs (Ctrl+C again to quit at once)...", cancellationToken);
            using var run = resumeDirectory is not null ? store.Reopen(resumeDirectory)
                : parse.GetValue(outDir) is { } dir ? RunStore.CreateAt(dir, QlearnExperimentKind.KindName) : QlearnSession.CreateRun(store, ((QlearnExperiment)experiment).Options);
            var result = await experiment.RunAsync(run, new LineProgress(output, r => r.Detail, "  ! "), interrupt.Token);

            output.WriteLine();
            // A run that failed writing (a full disk) may have no report; its status and the message below say why.
            if (File.Exists(run.ArtifactPath("report.txt")))
                output.Write(File.ReadAllText(run.ArtifactPath("report.txt")));
            output.WriteLine();
            // A failed run (a full disk, a provider down) is not "saved": say where its partial record is instead.
            output.WriteLine(result.Outcome == ExperimentOutcome.Failed
                ? $"The run failed; what it wrote is in {run.Directory}"
                : $"Run saved in {run.Directory}");
            RunPlots.WriteAfterRun(run.Directory, output, error);
            switch (result.Outcome)
            {
                case ExperimentOutcome.Stopped:
                    error.WriteLine($"{result.Message} Continue with: qlearn --resume {run.Directory}");
                    return CommandLine.Failure;
                case ExperimentOutcome.Failed:
                    error.WriteLine($"error: {result.Message} Continue later with: qlearn --resume {run.Directory}");
                    return CommandLine.Failure;
                default:
                    if (result.Message is not null)
                        output.WriteLine(result.Message);
                    return CommandLine.Ok;
            }
        });
        return command;
    }

    /// <summary>--weights checked and written canonically; a bad list is a usage error naming what is wrong.</summary>
    internal static string WeightsSetting(string given)
    {
        try
        {
            return RewardWeights.Parse(given).ToString();
        }
        catch (RoutingInputException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>
    /// --chains as settings: a number is the longest chain (every chain up to it); anything else is the allowed list, whose
    /// longest entry sets the length. A chain that repeats an agent or names an unknown one is refused when the settings resolve.
    /// </summary>
    private static (string, JsonNode?)[] ChainSettings(string? given)
    {
        if (given is null)
            return [];
        if (int.TryParse(given, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var length))
        {
            if (length is < 1 or > ChainOptions.MaxAllowedLength)
                throw new UsageException($"--chains {given}: the longest chain must be 1 to {ChainOptions.MaxAllowedLength} steps.");
            return [("chains.maxLength", JsonValue.Create(length))];
        }
        var labels = given.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (labels.Length == 0)
            throw new UsageException("--chains needs a longest length (1 to 3) or a comma-separated list of chains such as researcher/openai>validator/anthropic.");
        var longest = labels.Max(l => l.Split(RoutingChain.Separator).Length);
        return
        [
            ("chains.maxLength", JsonValue.Create(Math.Min(longest, ChainOptions.MaxAllowedLength))),
            ("chains.allowed", new JsonArray(labels.Select(l => (JsonNode?)JsonValue.Create(l)).ToArray())),
        ];
    }
}
