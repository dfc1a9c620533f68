using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Production;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Routing.Tests;

public class RouterTests
{
    private sealed class ManualTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void Rejected_requests_do_not_count_toward_the_per_minute_limit()
    {
        var time = new ManualTime();
        var limit = new RequestRateLimit(3, time);
        Assert.True(limit.TryAcquire());
        time.Now += TimeSpan.FromSeconds(20);
        Assert.True(limit.TryAcquire());
        Assert.True(limit.TryAcquire());
        for (var i = 0; i < 10; i++)
        {
            time.Now += TimeSpan.FromSeconds(3);
            Assert.False(limit.TryAcquire());
        }
        // 60 s after the first acceptance one slot frees, however many were turned away meanwhile.
        time.Now = new DateTimeOffset(2026, 1, 1, 0, 1, 0, TimeSpan.Zero);
        Assert.True(limit.TryAcquire());
        Assert.False(limit.TryAcquire());
        time.Now += TimeSpan.FromSeconds(20);
        Assert.True(limit.TryAcquire());
    }

    private static (ProductionRouter Router, CallLedger Ledger) Router(QTable table, bool learn, int perMinute = 60)
    {
        var options = new QlearnOptions().Resolve();
        var ledger = new CallLedger();
        var backends = ChatBackends.Build(options, _ => null, TimeProvider.System, null, PriceTable.Default, ledger, _ => { }, null, SimulationProfile.Default, null, null);
        var random = new SeededRandomSource(5);
        return (new ProductionRouter(ProductionRouter.CoordinatorFor(LearnedTable.FromQTable(table), options, random), backends.Providers, new CompositeReward(options.Reward), ledger, random,
            new RequestRateLimit(perMinute, TimeProvider.System), learn), ledger);
    }

    [Fact]
    public async Task Routing_is_greedy_from_the_saved_table_and_without_learning_makes_one_call()
    {
        var table = new QTable(["analysis", "coding", "research", "validation"]);
        table[1, 5] = 0.7;
        table[1, 4] = 0.6;
        var (router, ledger) = Router(table, learn: false);
        for (var i = 0; i < 5; i++)
        {
            var outcome = await router.RouteAsync("Write a cache", TaskType.Coding, CancellationToken.None);
            Assert.Equal(RouteStatus.Answered, outcome.Status);
            Assert.Equal(new RoutingAction(AgentRole.Coder, Provider.Anthropic), outcome.Action);
        }
        Assert.Equal(5, ledger.Calls.Count);
        Assert.Equal(0.7, router.Coordinator.RoutingLearner.Value(1, 5));
        var health = router.Health();
        Assert.Equal(("healthy", 5, 5, 0, 5, (double?)null, "coder_hot"), (health.Status, health.Requests, health.Answered, health.RateLimited, health.LlmCalls, health.MeanReward, health.LoadState));
        Assert.Equal(1.0, health.Utilisation["coder"]);
    }

    [Fact]
    public async Task Online_learning_judges_each_answer_updates_the_table_and_reports_the_mean_reward()
    {
        var (router, ledger) = Router(new QTable(["analysis", "coding", "research", "validation"]), learn: true, perMinute: 3);
        var outcomes = new List<RouteOutcome>();
        for (var i = 0; i < 5; i++)
            outcomes.Add(await router.RouteAsync("Check this claim", TaskType.Validation, CancellationToken.None));
        Assert.Equal([RouteStatus.Answered, RouteStatus.Answered, RouteStatus.Answered, RouteStatus.RateLimited, RouteStatus.RateLimited], outcomes.Select(o => o.Status));
        Assert.Equal(6, ledger.Calls.Count);
        Assert.NotEqual(0.0, router.Coordinator.RoutingLearner.Value(3, outcomes[0].Action!.Value.Index));
        var health = router.Health();
        Assert.Equal(("throttled", 5, 3, 2), (health.Status, health.Requests, health.Answered, health.RateLimited));
        Assert.Equal(outcomes.Take(3).Average(o => o.Reward!.Value), health.MeanReward!.Value, 12);
        Assert.Equal(0.0, router.Coordinator.Epsilon); // production never explores
    }

    [Fact]
    public void A_q_table_of_the_wrong_shape_is_refused()
    {
        var e = Assert.Throws<RoutingInputException>(() => QTable.FromJson("{\"actions\": [\"a\"], \"states\": [\"coding\"], \"values\": [[0]]}", "q.json"));
        Assert.StartsWith("The Q-table q.json has actions 'a'", e.Message);
        var six = new QTable(["a", "b", "c", "d", "e", "f"]);
        Assert.Equal("A Q-table has 4 states (base) or 20 (load-balanced), or those times 256 with the providers' health, not 6.",
            Assert.Throws<RoutingInputException>(() => ProductionRouter.CoordinatorFor(LearnedTable.FromQTable(six), new QlearnOptions(), new SeededRandomSource(1))).Message);
    }

    [Fact]
    public void A_bandit_table_is_its_own_document_and_route_continues_it_with_the_same_bandit()
    {
        using var tmp = new TempDir();
        var ucb1 = QLearningCoordinator.Create(TaskTypeCoordinator.Name, new QLearningOptions(), new LoadTrackerOptions(), new SeededRandomSource(1), RoutingAlgorithms.Ucb1);
        ucb1.Complete(ucb1.Decide(TaskBank.Default[0]), 0.25, TaskType.Coding);
        var decision = ucb1.Decide(TaskBank.Default[0]);
        ucb1.Complete(decision, 0.75, TaskType.Coding);
        Assert.NotEqual(0, decision.Action.Index);
        var saved = ucb1.SaveTable();
        Assert.Equal(("bandit.json", "bandit.csv"), (saved.JsonFileName, saved.CsvFileName));
        Assert.Contains("\"learner\": \"base\"", saved.Json);
        Assert.Contains("\"algorithm\": \"ucb1\"", saved.Json);
        Assert.DoesNotContain("\"values\"", saved.Json);
        Assert.Contains("coding,coder/anthropic,0,0,\n", saved.Csv);

        File.WriteAllText(tmp["bandit.json"], saved.Json);
        var table = LearnedTable.Load(tmp["bandit.json"]);
        Assert.Equal((TaskTypeCoordinator.Name, RoutingAlgorithms.Ucb1), (table.Learner, table.Algorithm));
        var routed = ProductionRouter.CoordinatorFor(table, new QlearnOptions(), new SeededRandomSource(1));
        Assert.Equal(RoutingAlgorithms.Ucb1, routed.Algorithm);
        Assert.Equal(decision.Action, routed.Decide(decision.Task, epsilonOverride: 0).Action);
        // The counts came along: one more reward continues the same sample mean.
        routed.Complete(routed.Decide(decision.Task, epsilonOverride: 0), 0.25, TaskType.Coding);
        Assert.Equal(0.5, routed.RoutingLearner.Value(decision.StateIndex, decision.Action.Index), 12);
        Assert.Equal(saved.Json.Length, ucb1.SaveTable().Json.Length);

        var q = QLearningCoordinator.Create(LoadBalancedCoordinator.Name, QLearningOptions.LoadBalancedDefaults, new LoadTrackerOptions(), new SeededRandomSource(1));
        var qSaved = q.SaveTable();
        Assert.Equal(("qtable.json", "qtable.csv"), (qSaved.JsonFileName, qSaved.CsvFileName));
        var qTable = QTable.FromJson(qSaved.Json, "q.json");
        Assert.Equal((LoadBalancedCoordinator.Name, RoutingAlgorithms.QLearning), (qTable.Learner, qTable.Algorithm));
        Assert.Equal(RoutingAlgorithms.QLearning, ProductionRouter.CoordinatorFor(LearnedTable.FromQTable(qTable), new QlearnOptions(), new SeededRandomSource(1)).Algorithm);
    }

    [Fact]
    public void An_old_q_table_holding_bandit_means_fails_with_one_sentence_naming_the_file()
    {
        using var tmp = new TempDir();
        var json = new QTable(["analysis", "coding", "research", "validation"]).ToJson().Replace("\"values\"", "\"algorithm\": \"ucb1\", \"values\"");
        File.WriteAllText(tmp["qtable.json"], json);
        Assert.Equal($"The Q-table {tmp["qtable.json"]} holds the sample means of a ucb1 run from before bandit tables kept their counts; route reads the artifacts/bandit.json such a run writes now.",
            Assert.Throws<RoutingInputException>(() => LearnedTable.Load(tmp["qtable.json"])).Message);
    }

    [Fact]
    public void A_q_table_naming_an_unknown_algorithm_is_refused()
    {
        var json = new QTable(["analysis", "coding", "research", "validation"]).ToJson().Replace("\"values\"", "\"algorithm\": \"sarsa\", \"values\"");
        Assert.Equal("The Q-table q.json says it was written by 'sarsa'; the learners are q-learning, ucb1, thompson, composed.",
            Assert.Throws<RoutingInputException>(() => QTable.FromJson(json, "q.json")).Message);
    }
}
