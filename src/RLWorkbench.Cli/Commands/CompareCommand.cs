using System.CommandLine;
using System.Text.Json.Nodes;
using RLWorkbench.Comparison;
using RLWorkbench.Experiments;
using RLWorkbench.Experiments.Compare;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Tracking;

namespace RLWorkbench.Cli.Commands;

/// <summary>
/// `compare`: PPO against the seed's Q-learning (and bandits and baselines) on one routing problem, with the same budget of
/// LLM calls for each. Binds its options into a <see cref="CompareExperimentKind"/> configuration and runs the experiment.
/// Simulated by default; --replay answers from a cassette, --real calls the providers under a hard --budget-usd.
/// </summary>
public static class CompareCommand
{
    /// <param name="environment">Reads OPENAI_API_KEY and friends; tests pass their own so no real key is ever needed.</param>
    /// <param name="time">The clock of the live pipelines' retries and rate limits; tests pass one that does not wait.</param>
    public static Command Create(Func<string, string?>? environment = null, TimeProvider? time = null)
    {
        var config = new Option<string?>("--config") { Description = "A JSON settings file (experiments/compare.json, compare-load-balanced.json, compare-smoke.json); options below and --set override it." };
        var loadBalanced = new Option<bool>("--load-balanced") { Description = "The load-balanced problem: state = task type x load state, rewards less the load penalty." };
        var learners = new Option<string[]>("--learner") { Description = $"Learners to run (repeat or separate with commas; default every single-step learner): {string.Join(", ", LearnerNames.All)}. The first is the one scores.json reports.", AllowMultipleArgumentsPerToken = true };
        var seeds = new Option<int?>("--seeds") { Description = "Seeds per learner (default 10)." }.AnyNumber();
        var firstSeed = new Option<long?>("--first-seed") { Description = "The first seed; seed k is first-seed + k (default 1)." }.AnyNumber();
        var budget = new Option<int?>("--budget") { Description = "LLM calls per learner and seed: each routed task spends one per agent step and one for the judge (default 100000 on the simulated and replay backends; required with --real)." }.AnyNumber();
        var profile = new Option<string?>("--profile") { Description = "Simulation profile JSON (default: the embedded experiments/profiles/default.json)." };
        var outDir = new Option<string?>("--out") { Description = "Run directory to create (default artifacts/runs/compare-<time>)." };
        var real = new Option<bool>("--real") { Description = "Call the real providers (keys from OPENAI_API_KEY / ANTHROPIC_API_KEY); needs --budget-usd and --budget. Runs qlearn only unless --learner names others." };
        var budgetUsd = new Option<double?>("--budget-usd") { Description = "Hard cap in USD for --real: the comparison stops before a routed task whose worst case could pass it, keeping the finished seeds." }.AnyNumber();
        var replay = new Option<string?>("--replay") { Description = "Answer every call from this cassette (recorded with compare --record): no network, no keys, no spend." };
        var record = new Option<string?>("--record") { Description = "Append every exchange to this cassette, so the comparison can be replayed." };
        var weights = new Option<string[]>("--weights") { Description = $"A Pareto sweep (docs/pareto.md): one weight vector per --weights ({RewardWeights.Example}; several separated by ';'). Learners learn each scalarisation; their fronts are drawn against the exact one." };
        var set = ExperimentOptions.Set();
        var command = new Command("compare", "Measure PPO against Q-learning, bandits and baselines on one routing problem, counted in LLM calls and dollars (simulated unless --real or --replay).")
        {
            config, loadBalanced, learners, seeds, firstSeed, budget, profile, outDir, real, budgetUsd, replay, record, weights, set,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            // The backend's rules (a cap for live calls, no cap without them, replay or record) are the configuration's,
            // checked once on the merged settings, so a configuration that selects the real backend works with --budget-usd alone.
            var live = parse.GetValue(real);
            var named = parse.GetValue(learners) is { Length: > 0 } names
                ? names.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray()
                : null;
            // PPO spends thousands of calls before it learns anything, so live runs leave it out unless asked for by name.
            var chosen = named ?? (live ? [LearnerNames.QLearning] : null);

            // A weight vector's own commas separate objectives, so vectors are separated by ';' or by repeating the option.
            var weightList = parse.GetValue(weights) is { Length: > 0 } given
                ? given.SelectMany(w => w.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray()
                : null;
            var kind = new CompareExperimentKind(environment, time);
            var configuration = parse.GetValue(config) is { } file ? kind.Load(file) : kind.Defaults();
            ExperimentOptions.Apply(configuration,
            [
                .. parse.GetValue(loadBalanced) ? [("problem.kind", JsonValue.Create(LoadBalancedCoordinator.Name))] : Array.Empty<(string, JsonNode?)>(),
                .. chosen is null ? [] : new (string, JsonNode?)[] { ("learners", new JsonArray([.. chosen.Select(l => JsonValue.Create(l))])) },
                .. weightList is null ? [] : new (string, JsonNode?)[] { ("weights", new JsonArray([.. weightList.Select(w => JsonValue.Create(w))])) },
                .. live ? [("backend", JsonValue.Create("real"))] : Array.Empty<(string, JsonNode?)>(),
                .. ExperimentOptions.Given(parse, budgetUsd, "budgetUsd"),
                .. ExperimentOptions.Given(parse, replay, "replay"),
                .. ExperimentOptions.Given(parse, record, "record"),
                .. ExperimentOptions.Given(parse, seeds, "seeds"),
                .. ExperimentOptions.Given(parse, firstSeed, "firstSeed"),
                .. ExperimentOptions.Given(parse, budget, "budgetCalls"),
                .. ExperimentOptions.Given(parse, profile, "problem.profile"),
            ], parse.GetValue(set));
            var experiment = kind.Create(configuration);

            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            using var stop = new StopSignal(error, "Stopping the comparison (Ctrl+C again to quit at once)...", cancellationToken);
            string directory;
            using (var run = parse.GetValue(outDir) is { } dir ? RunStore.CreateAt(dir, CompareExperimentKind.KindName) : new RunStore(RunStore.DefaultRoot).Create(CompareExperimentKind.KindName))
            {
                directory = run.Directory;
                var result = await experiment.RunAsync(run, new LineProgress(output, r => r.Detail), stop.Token);
                switch (result.Outcome)
                {
                    case ExperimentOutcome.Stopped:
                        error.WriteLine("Stopped.");
                        return CommandLine.Failure;
                    case ExperimentOutcome.Failed:
                        output.WriteLine($"error: {result.Message}");
                        return CommandLine.Failure;
                }
                if (result.Message is not null)
                {
                    output.WriteLine(result.Message);
                    return CommandLine.Ok;
                }
                output.WriteLine();
                output.Write(File.ReadAllText(Path.Combine(run.Directory, ComparisonReport.TerminalFile)));
                output.WriteLine();
                output.WriteLine($"Run saved in {run.Directory}");
            }
            RunPlots.WriteAfterRun(directory, output, error);
            return CommandLine.Ok;
        });
        return command;
    }
}
