using System.CommandLine;
using System.Globalization;
using RLWorkbench.Experiments.Qlearn;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Production;
using RLWorkbench.Routing.Providers;
using RLWorkbench.Routing.Workflow;
using RLWorkbench.Tracking;

namespace RLWorkbench.Cli.Commands;

/// <summary>
/// `route`: the seed's production path. Greedy routing of one task with a learned Q-table (of single agents, or of chains from
/// qlearn --chains), optional online learning from the judge, a per-minute request limit that ignores rejected requests, and
/// a health report.
/// </summary>
public static class RouteCommand
{
    public static Command Create()
    {
        var task = new Argument<string>("task") { Description = "The task to route, in words." };
        var type = new Option<string>("--type") { Description = "Task type: analysis, coding, research or validation.", Required = true };
        var qtable = new Option<string>("--qtable") { Description = "The table a qlearn run learned: artifacts/qtable.json (Q-learning), artifacts/bandit.json (ucb1, thompson) or artifacts/composed.json (composed), over single agents or, from qlearn --chains, over chains (each request then runs the chosen chain step by step); --learn continues with the same learner.", Required = true };
        var learn = new Option<bool>("--learn") { Description = "Judge each answer and update the Q-table online (one more LLM call per request)." };
        var save = new Option<string?>("--save-qtable") { Description = "Write the Q-table here after the requests (with --learn, to keep what was learned)." };
        var real = new Option<bool>("--real") { Description = "Call the real providers (keys from OPENAI_API_KEY / ANTHROPIC_API_KEY); the default is the simulated backend." };
        var replay = new Option<string?>("--replay") { Description = "Answer from a recorded cassette." };
        var config = new Option<string?>("--config") { Description = "qlearn settings JSON for models, prices and resilience." };
        var repeat = new Option<int>("--repeat") { Description = "Send the request this many times (to see the rate limit and online learning).", DefaultValueFactory = _ => 1 }.Between(1, 10_000);
        var perMinute = new Option<int>("--requests-per-minute") { Description = "Accepted requests allowed in any minute; rejected ones do not count.", DefaultValueFactory = _ => 60 }.Between(1, 1_000_000);
        var seed = new Option<long?>("--seed") { Description = "Seed for the simulated backend (default 42)." }.AnyNumber();
        var greedyOnly = new Option<bool>("--ignore-provider-state")
        {
            Description = "Follow the learned greedy choice even onto a provider that is out of rate-limit headroom or slow (by default such a provider is passed over, docs/providers.md).",
        };
        var weights = new Option<string?>("--weights") { Description = $"With --learn: learn this weighted sum of the reward vector instead of the seed's reward, for example {RewardWeights.Example}." };
        var command = new Command("route", "Route one task with a learned Q-table (greedy), optionally learning online; prints a health report.")
        {
            task, type, qtable, learn, save, real, replay, config, repeat, perMinute, seed, greedyOnly, weights,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            try
            {
                var description = parse.GetValue(task);
                if (string.IsNullOrWhiteSpace(description))
                    throw new UsageException("The task description is empty.");
                var taskType = RoutingNames.ParseTaskType(parse.GetValue(type)!);
                var learnWeights = parse.GetValue(weights) is { } w ? RewardWeights.Parse(QlearnCommand.WeightsSetting(w)) : null;
                if (learnWeights is not null && !parse.GetValue(learn))
                    throw new UsageException("--weights says what --learn learns; give --learn with it, or leave it out.");
                var times = parse.GetValue(repeat);
                if (SettingLimits.OutputFile(parse.GetValue(save), "--save-qtable", "qtable.json") is { } saveProblem)
                    throw new UsageException(saveProblem);
                // Read as qlearn reads it, so a bad setting is named by its dotted path with the closest valid one.
                var options = parse.GetValue(config) is { } file ? QlearnExperimentKind.Resolve(new QlearnExperimentKind().Load(file)) : new QlearnOptions();
                if (parse.GetValue(seed) is { } s)
                    options = options with { Seed = s };
                if (parse.GetValue(real))
                    options = options with { Backend = QlearnOptions.Backends.Real };
                if (parse.GetValue(replay) is { } rep)
                    options = options with { Replay = rep };
                options = options.Resolve();
                learnWeights ??= parse.GetValue(learn) ? options.Weights : null;
                var table = LearnedTable.Load(parse.GetValue(qtable)!);
                var prices = options.Prices is null ? PriceTable.Default : PriceTable.Load(options.Prices);
                var profile = options.Backend == QlearnOptions.Backends.Simulated ? (options.Profile is null ? SimulationProfile.Default : SimulationProfile.Load(options.Profile)) : null;
                var credentials = options.Backend == QlearnOptions.Backends.Real ? ProviderCredentials.FromEnvironment(RoutingNames.Providers, Environment.GetEnvironmentVariable) : null;
                var ledger = new CallLedger();
                using var backends = ChatBackends.Build(options, Environment.GetEnvironmentVariable, TimeProvider.System, null, prices, ledger,
                    m => output.WriteLine($"  ! {m}"), null, profile, credentials, null);
                var random = new SeededRandomSource(options.Seed);
                var router = new ProductionRouter(ProductionRouter.CoordinatorFor(table, options, random, backends.Health), backends.Providers,
                    new CompositeReward(options.Reward), ledger, random, new RequestRateLimit(parse.GetValue(perMinute), TimeProvider.System), parse.GetValue(learn),
                    backends.Health, parse.GetValue(greedyOnly) ? null : new ProviderAwareOptions(), learnWeights);
                for (var i = 0; i < times; i++)
                {
                    var outcome = await router.RouteAsync(description, taskType, cancellationToken);
                    // A chain is named by its steps in order, with what its calls cost and took together.
                    var routedTo = outcome.Chain is { } chain
                        ? string.Create(CultureInfo.InvariantCulture, $"{chain.Label} ({chain.Length} steps, ${outcome.ChainCostUsd:0.0000}, {outcome.ChainLatencySeconds:0.00} s)")
                        : $"{outcome.Action}";
                    output.WriteLine(outcome.Status switch
                    {
                        RouteStatus.Answered => string.Create(CultureInfo.InvariantCulture,
                            $"[{i + 1}] {outcome.State} -> {routedTo}{(outcome.Avoided is { } why ? $" ({why})" : "")}{(outcome.Reward is { } r ? $", judge quality {outcome.Verdict!.Quality:0.00}{(outcome.Verdict.ParseFailure ? " (parse failure)" : "")}, reward {r:0.000}, penalty {outcome.Penalty:0.000}" : "")}"),
                        RouteStatus.RateLimited => $"[{i + 1}] rejected: {outcome.Error}",
                        _ => $"[{i + 1}] {outcome.State} -> {routedTo} failed: {outcome.Error}",
                    });
                    if (times == 1 && outcome.Output is { } answer)
                        output.WriteLine(answer);
                }
                var h = router.Health();
                output.WriteLine();
                output.WriteLine($"Health: {h.Status}");
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  requests {h.Requests} (answered {h.Answered}, rate limited {h.RateLimited}, failed {h.Failed}), LLM calls {h.LlmCalls}, total cost ${h.TotalCostUsd:0.0000}"));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  mean reward {(h.MeanReward is { } m ? m.ToString("0.000", CultureInfo.InvariantCulture) : "n/a (no --learn)")}, judge parse failures {h.JudgeParseFailures}"));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  load state {h.LoadState}, imbalance {h.Imbalance:0.000}, utilisation {string.Join(", ", h.Utilisation.Select(kv => $"{kv.Key} {kv.Value * 100:0}%"))}"));
                if (h.AvoidedChoices > 0)
                    output.WriteLine($"  {h.AvoidedChoices} of {h.Answered + h.Failed} requests passed over the learned choice for the providers' state");
                foreach (var p in h.Providers ?? [])
                    output.WriteLine("  " + ProviderHealthReport.Line(p));
                if (parse.GetValue(save) is { } path)
                {
                    AtomicFile.WriteAllText(path, router.Coordinator.SaveTable().Json);
                    output.WriteLine($"Q-table saved to {path}");
                }
                return h.Failed > 0 ? CommandLine.Failure : CommandLine.Ok;
            }
            catch (RoutingInputException e)
            {
                throw new UsageException(e.Message);
            }
        });
        return command;
    }
}
