using System.Text.Json;
using Microsoft.Extensions.AI;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Production;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Routing.Tests;

/// <summary>Issue 13: route routes with a table qlearn --chains learned, running the chosen chain step by step.</summary>
public class RouteChainTests
{
    private static Task<QlearnResult> Run(QlearnOptions options, string dir) =>
        QlearnSession.RunAsync(new QlearnRequest { Options = options, OutDirectory = dir, RunsRoot = dir + "-root" }, new CollectingProgress(), default);

    private static (ProductionRouter Router, CallLedger Ledger, ChatBackends Backends) Router(LearnedTable table, bool learn)
    {
        var options = new QlearnOptions().Resolve();
        var ledger = new CallLedger();
        var backends = ChatBackends.Build(options, _ => null, TimeProvider.System, null, PriceTable.Default, ledger, _ => { }, null, SimulationProfile.Default, null, null);
        var random = new SeededRandomSource(5);
        return (new ProductionRouter(ProductionRouter.CoordinatorFor(table, options, random), backends.Providers, new CompositeReward(options.Reward), ledger, random,
            new RequestRateLimit(60, TimeProvider.System), learn), ledger, backends);
    }

    private static (string[] Actions, string[] States, double[][] Values) Read(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        return (root.GetProperty("actions").EnumerateArray().Select(e => e.GetString()!).ToArray(),
            root.GetProperty("states").EnumerateArray().Select(e => e.GetString()!).ToArray(),
            root.GetProperty("values").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray());
    }

    [Fact]
    public async Task Route_runs_the_greedy_chain_of_a_qlearn_chains_2_table_and_learning_changes_exactly_the_routed_entry()
    {
        using var tmp = new TempDir();
        await Run(new QlearnOptions { Iterations = 40, Chains = new ChainOptions { MaxLength = 2 } }, tmp["run"]);
        var path = tmp["run/artifacts/qtable.json"];
        var learned = Read(File.ReadAllText(path));
        var table = LearnedTable.Load(path);
        Assert.Equal(56, table.Chains!.Count);
        Assert.Equal(learned.Actions, table.Chains.Select(c => c.Label));

        // The greedy chain for coding, read from the file itself: the highest value, the first on ties.
        var coding = Array.IndexOf(learned.States, "coding");
        var row = learned.Values[coding];
        var greedy = Array.IndexOf(row, row.Max());
        var chain = RoutingChain.Parse(learned.Actions[greedy]);
        Assert.Equal(2, chain.Length);

        // Without --learn: every step is a call, no judge; the answer is the last step's, cost and latency add up over the steps.
        var (plain, plainLedger, plainBackends) = Router(table, learn: false);
        using (plainBackends)
        {
            var outcome = await plain.RouteAsync("Write a thread-safe LRU cache", TaskType.Coding, CancellationToken.None);
            Assert.Equal((RouteStatus.Answered, chain.Label, chain.First), (outcome.Status, outcome.Chain!.Label, outcome.Action!.Value));
            var calls = plainLedger.Calls.ToArray();
            Assert.Equal([("agent", chain.Steps[0].Provider.Name(), (int?)0), ("agent", chain.Steps[1].Provider.Name(), 1)], calls.Select(c => (c.Purpose, c.Provider, c.Step)));
            Assert.Equal(calls[0].CostUsd + calls[1].CostUsd, outcome.ChainCostUsd);
            Assert.Equal(calls[0].LatencySeconds + calls[1].LatencySeconds, outcome.ChainLatencySeconds);
            Assert.False(string.IsNullOrEmpty(outcome.Output));
            // Both steps' agents count toward the load.
            Assert.Equal((0.5, 0.5), (plain.Coordinator.Load.Utilisation(chain.Steps[0].Agent), plain.Coordinator.Load.Utilisation(chain.Steps[1].Agent)));
        }

        // With --learn: one call per step plus the judge; the learner learns the chain's reward and only that entry moves.
        var (router, ledger, backends) = Router(table, learn: true);
        using (backends)
        {
            var outcome = await router.RouteAsync("Write a thread-safe LRU cache", TaskType.Coding, CancellationToken.None);
            Assert.Equal((RouteStatus.Answered, chain.Label), (outcome.Status, outcome.Chain!.Label));
            var calls = ledger.Calls.ToArray();
            Assert.Equal([("agent", chain.Steps[0].Provider.Name(), (int?)0), ("agent", chain.Steps[1].Provider.Name(), 1), ("judge", "openai", null)],
                calls.Select(c => (c.Purpose, c.Provider, c.Step)));
            Assert.NotNull(outcome.Verdict);
            Assert.Equal(calls[0].CostUsd + calls[1].CostUsd, outcome.ChainCostUsd);
            Assert.Equal(3, router.Health().LlmCalls);

            var saved = Read(router.Coordinator.SaveTable().Json);
            Assert.Equal(learned.Actions, saved.Actions);
            Assert.Equal(learned.States, saved.States);
            var changed = Enumerable.Range(0, learned.States.Length)
                .SelectMany(s => Enumerable.Range(0, learned.Actions.Length).Where(a => learned.Values[s][a] != saved.Values[s][a]).Select(a => (learned.States[s], learned.Actions[a])))
                .ToArray();
            Assert.Equal([("coding", chain.Label)], changed);
            // Q-learning's own update (rate 0.15, gamma 0.95) of the judged reward, bootstrapping from the row of the next task
            // type route drew: one of the four rows.
            var before = row[greedy];
            var after = saved.Values[coding][greedy];
            Assert.Contains(learned.Values, next => before + 0.15 * (outcome.Reward!.Value + 0.95 * next.Max() - before) == after);
        }
    }

    [Theory]
    [InlineData(RoutingAlgorithms.Ucb1, "bandit.json")]
    [InlineData(RoutingAlgorithms.Composed, "composed.json")]
    public async Task Route_reads_a_chain_run_s_bandit_and_composed_tables_with_their_chains_and_learning_continues_the_same_learner(string algorithm, string file)
    {
        using var tmp = new TempDir();
        var chains = new ChainOptions { MaxLength = 2, Allowed = ["researcher/openai>validator/anthropic", "coder/openai", "coder/anthropic>validator/openai"] };
        await Run(new QlearnOptions { Algorithm = algorithm, Iterations = 12, Chains = chains }, tmp["run"]);
        var path = tmp[$"run/artifacts/{file}"];
        var table = LearnedTable.Load(path);
        Assert.Equal(chains.Allowed!, table.Chains!.Select(c => c.Label));
        var coordinator = ProductionRouter.CoordinatorFor(table, new QlearnOptions(), new SeededRandomSource(1));
        Assert.Equal(algorithm, coordinator.Algorithm);
        Assert.Equal(chains.Allowed!, coordinator.ActionLabels);
        // Nothing lost on the way in: the table route would save is the one qlearn saved.
        Assert.Equal(File.ReadAllText(path), coordinator.SaveTable().Json);

        // --learn continues the same learner: one routed request is one more pull in "coding", in the same kind of table.
        var (router, _, backends) = Router(table, learn: true);
        using (backends)
        {
            Assert.Equal(RouteStatus.Answered, (await router.RouteAsync("Write a thread-safe LRU cache", TaskType.Coding, CancellationToken.None)).Status);
            var saved = router.Coordinator.SaveTable();
            Assert.Equal(file, saved.JsonFileName);
            Assert.Equal(Pulls(File.ReadAllText(path)) + 1, Pulls(saved.Json));
        }

        long Pulls(string json)
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            Assert.Equal(algorithm, root.GetProperty("algorithm").GetString());
            var coding = root.GetProperty("states").EnumerateArray().Select(e => e.GetString()).ToList().IndexOf("coding");
            return algorithm == RoutingAlgorithms.Composed
                ? root.GetProperty("posterior").GetProperty("statePulls")[coding].GetInt64()
                : root.GetProperty("counts")[coding].EnumerateArray().Sum(e => e.GetInt64());
        }
    }

    [Theory]
    [InlineData("coder/openai>wizard/openai", "which is not a chain: Unknown agent 'wizard'; the agents are researcher, analyst, coder, validator.")]
    [InlineData("coder/openai>coder/anthropic", "which is not a chain: The chain 'coder/openai>coder/anthropic' uses the coder agent twice; each agent appears at most once in a chain.")]
    [InlineData("coder/openai > validator/openai", "which is not written as its chain's label 'coder/openai>validator/openai'.")]
    public void A_chain_table_with_a_label_that_is_not_a_chain_is_one_sentence_naming_it(string label, string problem)
    {
        using var tmp = new TempDir();
        var path = tmp["q.json"];
        File.WriteAllText(path, JsonSerializer.Serialize(new
        {
            actions = new[] { "researcher/openai>validator/anthropic", label },
            states = new[] { "analysis", "coding", "research", "validation" },
            values = Enumerable.Range(0, 4).Select(_ => new[] { 0.0, 0.0 }).ToArray(),
        }));
        Assert.Equal($"The Q-table {path} has the action '{label}', {problem}", Assert.Throws<RoutingInputException>(() => LearnedTable.Load(path)).Message);
    }

    /// <summary>Answers as the simulated provider would, or throws what a provider that is down throws.</summary>
    private sealed class DownChatClient(Provider provider) : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new ProviderCallException(provider, ProviderFailure.ServerError, $"{provider.Name()} answered HTTP 503 after every retry.");

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task A_provider_failing_part_way_through_a_chain_keeps_the_calls_made_fails_the_request_and_is_learned_as_reward_0()
    {
        var settings = new Dictionary<Provider, ProviderSettings> { [Provider.OpenAI] = new() { Model = "gpt-4o-mini" }, [Provider.Anthropic] = new() { Model = "claude-3-5-haiku-latest" } };
        var ledger = new CallLedger();
        var providers = new ChatProviders(new Dictionary<Provider, IChatClient>
        {
            [Provider.OpenAI] = ChatPipeline.Around(new SimulatedChatClient(Provider.OpenAI, SimulationProfile.Default, 42, TimeSpan.Zero), Provider.OpenAI, "gpt-4o-mini", PriceTable.Default, ledger, null, TimeProvider.System),
            [Provider.Anthropic] = ChatPipeline.Around(new DownChatClient(Provider.Anthropic), Provider.Anthropic, "claude-3-5-haiku-latest", PriceTable.Default, ledger, null, TimeProvider.System),
        }, settings, Provider.OpenAI);
        var chains = new[] { RoutingChain.Parse("researcher/openai>analyst/anthropic"), RoutingChain.Parse("coder/openai") };
        var coordinator = QLearningCoordinator.Create(TaskTypeCoordinator.Name, new QLearningOptions { EpsilonStart = 0, EpsilonFloor = 0 }, new LoadTrackerOptions(),
            new SeededRandomSource(1), chains: chains);
        var q = (TabularQLearner)coordinator.RoutingLearner;
        var coding = coordinator.StateIndex("coding");
        q[coding, 0] = 0.8;
        q[coding, 1] = 0.5;
        var router = new ProductionRouter(coordinator, providers, new CompositeReward(new RewardOptions()), ledger, new SeededRandomSource(2),
            new RequestRateLimit(60, TimeProvider.System), learnOnline: true);

        var outcome = await router.RouteAsync("Write a cache", TaskType.Coding, CancellationToken.None);

        Assert.Equal(RouteStatus.Failed, outcome.Status);
        Assert.Equal("The chain 'researcher/openai>analyst/anthropic' failed at step 2 (analyst/anthropic): anthropic answered HTTP 503 after every retry.", outcome.Error);
        var made = Assert.Single(ledger.Calls);
        Assert.Equal(("agent", "openai", (int?)0), (made.Purpose, made.Provider, made.Step));
        Assert.Equal(made.CostUsd, outcome.ChainCostUsd);
        // Reward 0, bootstrapping from the state it was routed in: 0.8 + 0.15 x (0 + 0.95 x 0.8 - 0.8) = 0.794.
        Assert.Equal(0.794, q[coding, 0], 12);
        Assert.Equal(0.5, q[coding, 1]);
        var health = router.Health();
        Assert.Equal(("degraded", 1, 0, 1, 1), (health.Status, health.Requests, health.Answered, health.Failed, health.LlmCalls));
        Assert.Null(health.MeanReward);
    }
}
