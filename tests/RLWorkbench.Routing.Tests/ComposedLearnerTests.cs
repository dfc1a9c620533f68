using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Production;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Routing.Tests;

/// <summary>`qlearn --learner composed`: the composed chain learner inside the coordinator, its checkpoints and its saved table.</summary>
public class ComposedLearnerTests
{
    private static readonly RoutingTask Coding = new("c1", "d", TaskType.Coding, 0.6, 0.9);

    /// <summary>Two three-step chains with no component in common: 6 components (9 with pairs, analyst>validator being a handoff of both).</summary>
    private static readonly ChainOptions TwoLongChains = new()
    {
        MaxLength = 3,
        Allowed = ["researcher/openai>analyst/anthropic>validator/openai", "coder/anthropic>analyst/openai>validator/anthropic"],
    };

    private static readonly System.Text.Json.JsonSerializerOptions Web = new(System.Text.Json.JsonSerializerDefaults.Web);

    private static ComposedChainLearner Learner(QLearningCoordinator c) => (ComposedChainLearner)c.RoutingLearner;

    [Fact]
    public void Over_single_steps_it_is_a_ridge_mean_per_action_that_routes_by_optimism_and_never_draws()
    {
        // No scripted draws: the composed learner must not touch the random stream.
        var c = new TaskTypeCoordinator(new QLearningOptions(), new LoadTrackerOptions(), new ScriptedRandom(), RoutingAlgorithms.Composed);
        Assert.Equal((RoutingAlgorithms.Composed, 0.0), (c.Algorithm, c.Epsilon));
        var s = c.StateIndex("coding");
        // Eight components, one per action; per state a mean and a target per component and the inverse's upper triangle.
        Assert.Equal(8, Learner(c).Components.Count);
        Assert.Equal(4L * (2 * 8 + 8 * 9 / 2), c.RoutingLearner.LearnedParameters);

        // All indices tie at the start: the first chain, which is also the greedy one.
        var first = c.Decide(Coding);
        Assert.Equal((0, false), (first.ActionIndex, first.Explored));
        var update = c.Complete(first, 0.5, TaskType.Coding);
        // Ridge (noise / priorSd)^2 = 0.01: the posterior mean is 0.5 / 1.01, the variance 1 / 1.01 noise variances.
        Assert.Equal(0.0, update.QBefore);
        Assert.Equal(0.5 / 1.01, update.QAfter, 1e-12);
        Assert.Equal(0.5 / 1.01, c.RoutingLearner.Value(s, 0), 1e-12);
        Assert.Equal(1 / 1.01, Learner(c).Width(s, 0), 1e-12);
        Assert.Equal(100, Learner(c).Width(s, 1), 1e-12);
        Assert.Equal(0.5 / 1.01 + 0.1 * Math.Sqrt(2 * Math.Log(2) / 1.01), Learner(c).Index(s, 0), 1e-12);
        Assert.Equal(0.1 * Math.Sqrt(2 * Math.Log(2) * 100), Learner(c).Index(s, 1), 1e-12);
        Assert.Equal("components 1/8 seen", c.RoutingLearner.DescribeExploration(s, default));

        // An unseen action's width (100) outweighs the seen one's mean: optimism routes there, which is exploring.
        var second = c.Decide(Coding);
        Assert.Equal((1, true), (second.ActionIndex, second.Explored));
        // Route's greedy routing (epsilon override 0) takes the best posterior mean instead.
        Assert.Equal((0, false), (c.Decide(Coding, epsilonOverride: 0).ActionIndex, c.Decide(Coding, epsilonOverride: 0).Explored));
        Assert.Equal(0, c.RoutingLearner.Greedy(s));
        // Other states are untouched.
        Assert.All(c.States.Where(x => x != "coding"), x => Assert.Equal("components 0/8 seen", c.RoutingLearner.DescribeExploration(c.StateIndex(x), default)));
    }

    [Fact]
    public void Its_settings_are_the_comparison_s_defaults_and_a_bad_one_is_one_sentence()
    {
        var options = new QlearnOptions { Algorithm = RoutingAlgorithms.Composed }.Resolve();
        Assert.Equal((1.0, 0.1, 1.0, false), (options.Composed.PriorSd, options.Composed.Noise, options.Composed.Exploration, options.Composed.WithPairs));
        Assert.Equal("'composed.noise' must be a positive number, got 0.",
            Assert.Throws<RoutingInputException>(() => (options with { Composed = new ComposedLearnerOptions { Noise = 0 } }).Resolve()).Message);
        Assert.Equal("'composed.priorSd' must be a positive number, got -1.",
            Assert.Throws<RoutingInputException>(() => (options with { Composed = new ComposedLearnerOptions { PriorSd = -1 } }).Resolve()).Message);
        Assert.Equal("'composed.exploration' must be a non-negative number, got NaN.",
            Assert.Throws<RoutingInputException>(() => (options with { Composed = new ComposedLearnerOptions { Exploration = double.NaN } }).Resolve()).Message);
        // withPairs adds a component per ordered agent pair of a handoff: the two chains' four handoffs are four pairs.
        var plain = new ComposedChainLearner(4, TwoLongChains.Enumerate(), new ComposedLearnerOptions());
        var pairs = new ComposedChainLearner(4, TwoLongChains.Enumerate(), new ComposedLearnerOptions { WithPairs = true });
        Assert.Equal((6, 9), (plain.Components.Count, pairs.Components.Count));
    }

    private static Task<QlearnResult> Run(QlearnOptions options, string dir, IQlearnProgress? progress = null, string? resume = null, CancellationToken ct = default) =>
        QlearnSession.RunAsync(new QlearnRequest { Options = options, OutDirectory = resume is null ? dir : null, ResumeDirectory = resume, RunsRoot = dir + "-root" }, progress ?? new CollectingProgress(), ct);

    [Theory]
    [InlineData("base", 2)]
    [InlineData("load-balanced", 1)]
    public async Task A_stopped_composed_run_resumes_exactly_and_its_table_holds_the_posterior(string learner, int maxLength)
    {
        using var tmp = new TempDir();
        var options = new QlearnOptions { Learner = learner, Algorithm = RoutingAlgorithms.Composed, Iterations = 40, Chains = new ChainOptions { MaxLength = maxLength } };
        await Run(options, tmp["whole"]);

        using var cts = new CancellationTokenSource();
        var stopped = await Run(options, tmp["part"], new CollectingProgress(r => { if (r.Iteration == 14) cts.Cancel(); }), ct: cts.Token);
        Assert.Equal((StopReason.Cancelled, 15), (stopped.Outcome.Reason, stopped.Outcome.IterationsDone));
        var resumed = await Run(new QlearnOptions(), tmp["unused"], resume: tmp["part"]);
        Assert.Equal(StopReason.Completed, resumed.Outcome.Reason);
        Assert.Equal(File.ReadAllText(tmp["whole/iterations.csv"]), File.ReadAllText(tmp["part/iterations.csv"]));
        // The whole posterior, every double of the inverse included, is the uninterrupted run's.
        Assert.Equal(File.ReadAllText(tmp["whole/artifacts/composed.json"]), File.ReadAllText(tmp["part/artifacts/composed.json"]));
        Assert.Equal(File.ReadAllText(tmp["whole/artifacts/composed.csv"]), File.ReadAllText(tmp["part/artifacts/composed.csv"]));
        Assert.False(File.Exists(tmp["part/artifacts/qtable.json"]));
        Assert.Contains("\"algorithm\": \"composed\"", File.ReadAllText(tmp["part/config.json"]));
        Assert.StartsWith("Composed chain learner routing", resumed.Report.Text);
        var rows = IterationRow.ReadCsv(tmp["part/iterations.csv"]).ToArray();
        Assert.All(rows, r => Assert.Equal(0, r.Epsilon));
        // Pulls per state are the rows routed from it.
        var document = System.Text.Json.JsonSerializer.Deserialize<ComposedTableDocument>(File.ReadAllText(tmp["part/artifacts/composed.json"]), Web)!;
        Assert.Equal(document.States.Select(s => (long)rows.Count(r => r.State == s)), document.Posterior.StatePulls);
        Assert.Equal((learner, RoutingAlgorithms.Composed), (document.Learner, document.Algorithm));
    }

    [Fact]
    public void A_checkpoint_from_another_learner_or_chain_set_is_refused_in_one_sentence()
    {
        var c = QLearningCoordinator.Create("base", new QLearningOptions(), new LoadTrackerOptions(), new SeededRandomSource(1), RoutingAlgorithms.Composed, chains: TwoLongChains.Enumerate());
        c.Complete(c.Decide(Coding), 0.5, TaskType.Coding);
        var snapshot = c.Snapshot();
        var otherChains = QLearningCoordinator.Create("base", new QLearningOptions(), new LoadTrackerOptions(), new SeededRandomSource(1), RoutingAlgorithms.Composed,
            chains: new ChainOptions { MaxLength = 2 }.Enumerate());
        Assert.Equal("The saved composed learner's components are not this run's 32 (its chains or withPairs differ).",
            Assert.Throws<RoutingInputException>(() => otherChains.Restore(snapshot)).Message);
        var ucb1 = QLearningCoordinator.Create("base", new QLearningOptions(), new LoadTrackerOptions(), new SeededRandomSource(1), RoutingAlgorithms.Ucb1, chains: TwoLongChains.Enumerate());
        Assert.Equal("The saved coordinator learned with 'composed', not 'ucb1'.", Assert.Throws<RoutingInputException>(() => ucb1.Restore(snapshot)).Message);
        var copy = QLearningCoordinator.Create("base", new QLearningOptions(), new LoadTrackerOptions(), new SeededRandomSource(1), RoutingAlgorithms.Composed, chains: TwoLongChains.Enumerate());
        Assert.Equal("The saved composed coordinator has no posterior (inverse, targets, means, pulls).",
            Assert.Throws<RoutingInputException>(() => copy.Restore(snapshot with { Composed = null })).Message);
        copy.Restore(snapshot);
        Assert.Equal(c.SaveTable().Json, copy.SaveTable().Json);
    }

    [Fact]
    public async Task Route_continues_a_single_step_composed_table_and_a_chain_one_with_the_same_learner()
    {
        using var tmp = new TempDir();
        await Run(new QlearnOptions { Algorithm = RoutingAlgorithms.Composed, Iterations = 30, Composed = new ComposedLearnerOptions { Noise = 0.2 } }, tmp["single"]);
        var path = tmp["single/artifacts/composed.json"];
        var table = LearnedTable.Load(path);
        Assert.Equal((TaskTypeCoordinator.Name, RoutingAlgorithms.Composed, 0.2), (table.Learner, table.Algorithm, table.Composed!.Noise));
        // Route builds the learner with the table's own settings (not route's configuration) and its whole posterior.
        var routed = ProductionRouter.CoordinatorFor(table, new QlearnOptions(), new SeededRandomSource(1));
        Assert.Equal(RoutingAlgorithms.Composed, routed.Algorithm);
        Assert.Equal(File.ReadAllText(path), routed.SaveTable().Json);
        var s = routed.StateIndex("coding");
        var decision = routed.Decide(Coding, epsilonOverride: 0);
        Assert.Equal(routed.RoutingLearner.Greedy(s), decision.ActionIndex);
        // --learn continues the same posterior: one more reward moves the chosen action's mean.
        var update = routed.Complete(decision, 1.0, TaskType.Coding);
        Assert.True(update.QAfter > update.QBefore);

        await Run(new QlearnOptions { Algorithm = RoutingAlgorithms.Composed, Iterations = 3, Chains = TwoLongChains }, tmp["chains"]);
        var chainPath = tmp["chains/artifacts/composed.json"];
        // A chain run's table continues too, over its chains: the same posterior, the same table saved back.
        var chained = ProductionRouter.CoordinatorFor(LearnedTable.Load(chainPath), new QlearnOptions(), new SeededRandomSource(1));
        Assert.Equal(TwoLongChains.Enumerate().Select(c => c.Label), chained.ActionLabels);
        Assert.Equal(File.ReadAllText(chainPath), chained.SaveTable().Json);
    }
}
