using System.CommandLine;
using System.Globalization;
using System.Text;
using RLWorkbench.Cli;
using RLWorkbench.Cli.Commands;
using RLWorkbench.Comparison;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using Xunit.Abstractions;

namespace RLWorkbench.Comparison.Tests;

public sealed class ChainOracleTests(ITestOutputHelper output)
{
    private const string CoderToValidator = """{"gains": [{"taskType": "coding", "from": "coder", "to": "validator", "gain": 0.5}]}""";

    private static string[] CodingChains { get; } = ["coder/openai", "validator/openai", "coder/openai>validator/openai"];

    [Fact]
    public void With_zero_spreads_a_chains_value_and_cost_are_the_ones_worked_out_by_hand()
    {
        var problem = Problems.FromProfile(Problems.Profile(spread: 0, latencySpread: 0, tokenSpread: 0, anthropicBonus: 0, chainEffects: CoderToValidator), chains: CodingChains);
        var model = new ExactRewardModel(problem, chainSamples: 50);
        var coding = Enumerable.Range(0, problem.Bank.Count).Where(i => problem.Bank[i].Type == TaskType.Coding).ToArray();

        // Step 1, the coder: its prompts and 400 tokens out. Step 2, the validator: its prompts, the coder's 400-token answer
        // and 400 tokens out. gpt-4o-mini: $0.15 / $0.60 per million tokens.
        double Cost(RoutingTask task)
        {
            var first = SimulatedChatClient.EstimateTokens(AgentPrompts.SystemPrompt(AgentRole.Coder)) + SimulatedChatClient.EstimateTokens(AgentPrompts.UserMessage(task));
            var second = SimulatedChatClient.EstimateTokens(AgentPrompts.SystemPrompt(AgentRole.Validator))
                + SimulatedChatClient.EstimateTokens(AgentPrompts.HandoffMessage(task, AgentRole.Coder, new string('x', 1600)));
            return (first * 0.15 + 400 * 0.60 + second * 0.15 + 400 * 0.60) / 1e6;
        }
        foreach (var i in coding)
        {
            // Quality 0.9 + 0.5 x 0.4 x (1 - 0.9) = 0.92; latency 2 s + 2 s of the 5 s scale.
            Assert.Equal(0.92 - 0.10 * (Cost(problem.Bank[i]) / 0.002) - 0.05 * (4.0 / 5.0), model.ExpectedForTask(i, 2), 12);
        }
        Assert.Equal(coding.Average(i => Cost(problem.Bank[i])), model.ExpectedCostUsd((int)TaskType.Coding, 2), 15);
        Assert.Equal(0.0, model.StandardError((int)TaskType.Coding, 2), 12);
        Assert.Equal(0.0, model.Precision, 12);
    }

    [Fact]
    public void Single_steps_on_a_chain_problem_keep_their_exact_values_bit_for_bit()
    {
        var profile = Problems.Profile(chainEffects: CoderToValidator);
        var chained = new ExactRewardModel(Problems.FromProfile(profile, chains: CodingChains), chainSamples: 200);
        var single = new ExactRewardModel(Problems.FromProfile(profile));
        var coder = new RoutingAction(AgentRole.Coder, Provider.OpenAI).Index;
        var validator = new RoutingAction(AgentRole.Validator, Provider.OpenAI).Index;

        for (var t = 0; t < RoutingProblem.TypeCount; t++)
        {
            Assert.Equal(single.Expected(t, coder), chained.Expected(t, 0));
            Assert.Equal(single.Expected(t, validator), chained.Expected(t, 1));
            Assert.Equal(0.0, chained.StandardError(t, 0));
        }
        Assert.InRange(chained.Precision, 1e-6, 1e-2);
    }

    [Theory]
    [InlineData("researcher/openai>validator/openai", TaskType.Research)]
    [InlineData("coder/anthropic>validator/openai>analyst/anthropic", TaskType.Coding)]
    [InlineData("analyst/openai>coder/anthropic", TaskType.Analysis)]
    public void The_chain_estimate_agrees_with_the_simulated_backend(string label, TaskType type)
    {
        // The shipped chain profile through the real simulated client, prompts, judge parser and composite reward: the
        // estimate must be within sampling error of what the environment pays, or it has drifted from the generative process.
        var problem = ChainProblem([label, "coder/openai"]);
        var model = new ExactRewardModel(problem, chainSamples: 20_000);
        using var env = new RoutingEnvironment(problem, SimulatedRoutingBackend.Factory, seed: 11);
        env.Reset(11, new float[problem.ObservationSize]);
        var rewards = new List<double>();
        while (rewards.Count < 4_000)
        {
            var isType = env.CurrentTask.Type == type;
            var step = env.Route(0);
            if (isType)
                rewards.Add(step.RawReward);
        }
        var mean = rewards.Average();
        var se = Math.Sqrt(rewards.Sum(r => (r - mean) * (r - mean)) / (rewards.Count - 1) / rewards.Count);
        var estimate = model.Expected((int)type, 0);
        Assert.True(Math.Abs(mean - estimate) < 4 * Math.Sqrt(se * se + model.StandardError((int)type, 0) * model.StandardError((int)type, 0)),
            $"estimate {estimate} +- {model.StandardError((int)type, 0)}, simulated {mean} +- {se}");
    }

    [Fact]
    public void The_environment_counts_every_call_of_a_chain_and_its_cost()
    {
        var problem = ChainProblem(["researcher/openai>validator/openai>analyst/anthropic", "coder/openai"]);
        using var env = new RoutingEnvironment(problem, SimulatedRoutingBackend.Factory, seed: 3);
        env.Reset(3, new float[problem.ObservationSize]);

        var chain = env.Route(0);
        Assert.Equal(4, env.LlmCalls);
        Assert.Equal(3, env.Info["chain_length"]);
        Assert.Equal(chain.AgentCostUsd, env.Info["cost_usd"]);
        Assert.Equal(chain.AgentCostUsd + chain.JudgeCostUsd, env.DollarsSpent, 15);
        var single = env.Route(1);
        Assert.Equal(6, env.LlmCalls);
        Assert.Equal(1, env.Info["chain_length"]);
        // Three agent calls, one of them Anthropic's, cost more than one gpt-4o-mini call.
        Assert.True(chain.AgentCostUsd > 3 * single.AgentCostUsd, $"{chain.AgentCostUsd} vs {single.AgentCostUsd}");
    }

    /// <summary>The simulated backend, except that one provider's agent calls after a chain's first step fail as a provider would.</summary>
    private sealed class FailingLaterSteps(RoutingProblem problem, long seed, Provider failing) : IRoutingBackend
    {
        private readonly SimulatedRoutingBackend inner = new(problem, seed);

        public Microsoft.Extensions.AI.IChatClient Client(Provider provider) =>
            provider == failing ? new Failing(inner.Client(provider), provider) : inner.Client(provider);

        public void Dispose() => inner.Dispose();

        private sealed class Failing(Microsoft.Extensions.AI.IChatClient client, Provider provider) : Microsoft.Extensions.AI.DelegatingChatClient(client)
        {
            public override Task<Microsoft.Extensions.AI.ChatResponse> GetResponseAsync(
                IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages, Microsoft.Extensions.AI.ChatOptions? options = null, CancellationToken cancellationToken = default) =>
                CallContext.From(options) is { Step: > 0 }
                    ? throw new ProviderCallException(provider, ProviderFailure.ServerError, "anthropic answered 503 three times.")
                    : base.GetResponseAsync(messages, options, cancellationToken);
        }
    }

    [Fact]
    public void A_provider_failure_mid_chain_bills_the_calls_already_made_and_the_task_fails_or_past_the_limit_the_run_does()
    {
        var problem = ChainProblem(["researcher/openai>validator/anthropic", "coder/openai"]);
        using var env = new RoutingEnvironment(problem, (p, seed) => new FailingLaterSteps(p, seed, Provider.Anthropic), seed: 3);
        env.Reset(3, new float[problem.ObservationSize]);

        var failed = env.Route(0);

        Assert.Equal(0.0, failed.AdjustedReward);
        Assert.Equal(1, env.FailedTasks);
        // The first step answered and was billed; the refused second step counts as one call that got no answer.
        Assert.Equal(2, env.LlmCalls);
        Assert.True(env.DollarsSpent > 0, "the first step's call was billed");

        using var strict = new RoutingEnvironment(problem, (p, seed) => new FailingLaterSteps(p, seed, Provider.Anthropic), seed: 3, new RoutingEnvironmentOptions { MaxFailedTasks = 0 });
        strict.Reset(3, new float[problem.ObservationSize]);
        var e = Assert.Throws<ProviderCallException>(() => strict.Route(0));
        Assert.StartsWith("1 tasks failed part-way through a chain, more than the 0 allowed (maxFailedTasks); the last: ", e.Message);
        Assert.Equal("anthropic answered 503 three times.", e.InnerException!.Message);
        Assert.Equal(2, strict.LlmCalls);
        Assert.Equal(env.DollarsSpent, strict.DollarsSpent);
    }

    [Fact]
    public void The_policy_valuer_values_and_prices_policies_on_a_chain_problem()
    {
        var problem = ChainProblem(["researcher/openai>validator/openai", "researcher/openai", "coder/anthropic"]);
        var model = new ExactRewardModel(problem, chainSamples: 500);
        var valuer = new PolicyValuer(model);
        var p = problem.TypeProbabilities;

        var table = new TablePolicy([1, 2, 0, 1]);
        Assert.Equal(Enumerable.Range(0, 4).Sum(t => p[t] * model.Expected(t, table.ActionPerState[t])), valuer.Value(table), 15);
        Assert.Equal(Enumerable.Range(0, 4).Sum(t => p[t] * model.ExpectedCostUsd(t, table.ActionPerState[t])), valuer.ExpectedCostUsd(table), 15);
        Assert.Equal(valuer.Value(table) / valuer.ExpectedCostUsd(table), valuer.ValuePerDollar(table), 12);
        Assert.Equal(Enumerable.Range(0, 4).Sum(t => p[t] * Enumerable.Range(0, 3).Average(a => model.ExpectedCostUsd(t, a))), valuer.ExpectedCostUsd(new UniformPolicy()), 15);
        Assert.Equal(valuer.OracleValue, valuer.Value(new TablePolicy(valuer.OracleTable())), 15);
        Assert.Equal(valuer.ExpectedCostUsd(new TablePolicy(valuer.OracleTable())), valuer.ExpectedCostUsd(new OraclePolicy()), 15);
    }

    [Fact]
    public void On_the_shipped_chain_profile_the_best_chain_beats_the_best_single_agent_on_research_and_coding_and_loses_on_the_others()
    {
        var problem = ChainProblem(null, maxLength: 3);
        var model = new ExactRewardModel(problem, chainSamples: 2_000);
        var table = new StringBuilder("type        best single (reward, $/task)               best chain (reward, $/task)                              chain - single\n");
        var margins = new Dictionary<TaskType, double>();
        foreach (var type in RoutingNames.TaskTypes)
        {
            var t = (int)type;
            var single = Enumerable.Range(0, problem.ActionCount).Where(a => problem.Chains[a].Length == 1).MaxBy(a => model.Expected(t, a));
            var chain = Enumerable.Range(0, problem.ActionCount).Where(a => problem.Chains[a].Length > 1).MaxBy(a => model.Expected(t, a));
            margins[type] = model.Expected(t, chain) - model.Expected(t, single);
            table.AppendLine(CultureInfo.InvariantCulture,
                $"{type.Name(),-11} {problem.ActionLabel(single),-22} {model.Expected(t, single):0.0000} ${model.ExpectedCostUsd(t, single):0.000000}   {problem.ActionLabel(chain),-38} {model.Expected(t, chain):0.0000} +- {model.StandardError(t, chain):0.00000} ${model.ExpectedCostUsd(t, chain):0.000000}   {margins[type]:+0.0000;-0.0000}");
            if (margins[type] < 0)
            {
                // It loses on cost, not quality: the best chain's judged quality is above the best single agent's.
                var chainQuality = problem.Profile.ChainScores(problem.Chains[chain], type).MeanQuality;
                var singleQuality = problem.Profile.ChainScores(problem.Chains[single], type).MeanQuality;
                Assert.True(chainQuality > singleQuality, $"{type}: chain quality {chainQuality} vs {singleQuality}");
                Assert.True(model.ExpectedCostUsd(t, chain) > model.ExpectedCostUsd(t, single));
            }
        }
        output.WriteLine(table.ToString());
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"oracle precision (largest standard error): {model.Precision:0.000000}"));
        Assert.InRange(margins[TaskType.Research], 0.02, 0.1);
        Assert.InRange(margins[TaskType.Coding], 0.01, 0.1);
        Assert.InRange(margins[TaskType.Analysis], -0.1, -0.01);
        Assert.InRange(margins[TaskType.Validation], -0.1, -0.01);
        Assert.True(model.Precision < 5e-4, $"precision {model.Precision}");
    }

    private static RoutingProblem ChainProblem(IReadOnlyList<string>? allowed, int maxLength = ChainOptions.MaxAllowedLength) =>
        ComparisonRunner.BuildProblem(new ProblemOptions
        {
            Profile = Path.Combine(RepositoryPaths.Root, "experiments", "profiles", "chains.json"),
            Chains = new ChainOptions { MaxLength = maxLength, Allowed = allowed },
        });

    [Theory]
    [InlineData("""{"maxLength": 2, "allowed": ["coder/openai>coder/anthropic"]}""", "problem.chains: The chain 'coder/openai>coder/anthropic' uses the coder agent twice; each agent appears at most once in a chain.")]
    [InlineData("""{"maxLength": 2, "allowed": ["coder/openai>validator/openai>analyst/openai"]}""", "problem.chains: The chain 'coder/openai>validator/openai>analyst/openai' has 3 steps; chains may have at most 2.")]
    [InlineData("""{"maxLength": 2, "allowed": ["coder/openai>tester/openai"]}""", "problem.chains: Unknown agent 'tester'; the agents are researcher, analyst, coder, validator.")]
    [InlineData("""{"maxLength": 2, "allowed": ["coder/openai>validator/mistral"]}""", "problem.chains: Unknown provider 'mistral'; the providers are openai, anthropic.")]
    [InlineData("""{"maxLength": 4}""", "problem.chains: The longest chain must be 1 to 3 steps, not 4.")]
    [InlineData("""{"maxLength": 0}""", "problem.chains.maxLength must be 1 to 3, not 0.")]
    public void A_bad_chain_is_exit_code_2_naming_it_before_any_call(string chains, string message)
    {
        var config = Path.Combine(Path.GetTempPath(), $"rlw-chains-{Guid.NewGuid():N}.json");
        File.WriteAllText(config, $$"""{"problem": {"chains": {{chains}}}, "learners": ["random"]}""");
        var dir = Path.Combine(Path.GetTempPath(), "rlw-compare-tests", Guid.NewGuid().ToString("N"));
        var root = new RootCommand("test");
        root.Subcommands.Add(CompareCommand.Create());
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = CommandLine.Invoke(root, ["compare", "--config", config, "--out", dir], stdout, stderr);

        Assert.Equal(2, code);
        Assert.Contains(message, stderr.ToString());
        Assert.Single(stderr.ToString().Trim().Split('\n'));
        Assert.False(Directory.Exists(dir), "a refused comparison must not leave a run directory");
    }

    [Fact]
    public void Chains_and_single_actions_together_are_refused()
    {
        var e = Assert.Throws<ComparisonInputException>(() => ComparisonRunner.BuildProblem(new ProblemOptions
        {
            Actions = ["coder/openai", "validator/openai"],
            Chains = new ChainOptions { MaxLength = 2 },
        }));
        Assert.Equal("Give either problem.actions (single agent/provider steps) or problem.chains, not both.", e.Message);
    }

    [Fact]
    public void A_configuration_without_chains_builds_the_single_agent_problem()
    {
        var problem = ComparisonRunner.BuildProblem(new ProblemOptions());

        Assert.False(problem.RoutesChains);
        Assert.Equal(RoutingAction.All, problem.Actions);
        Assert.Equal(0.0, new ExactRewardModel(problem).Precision);
    }
}
