using System.Text.Json;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Workflow;
using RLWorkbench.Tracking;

namespace RLWorkbench.Routing.Tests;

/// <summary>`qlearn --learner ucb1|thompson`: the bandit arithmetic inside the coordinator's Decide/Complete shape.</summary>
public class BanditTests
{
    private static SampleMeanBandit B(QLearningCoordinator c) => ((SampleMeanLearner)c.RoutingLearner).Bandit;

    private static readonly RoutingTask Coding = new("c1", "d", TaskType.Coding, 0.6, 0.9);

    private static readonly double[] Rewards = [0.5, 0.6, 0.2, 0.3, 0.1, 0.9, 0.4, 0.7];

    [Fact]
    public void Ucb1_tries_untried_actions_first_then_routes_by_index_and_keeps_the_table_equal_to_the_sample_means()
    {
        // No scripted draws: UCB1 must not touch the random stream (no epsilon coin, no tie-break draw).
        var c = new TaskTypeCoordinator(new QLearningOptions(), new LoadTrackerOptions(), new ScriptedRandom(), RoutingAlgorithms.Ucb1);
        Assert.Equal(0, c.Epsilon);
        var s = c.StateIndex("coding");
        for (var a = 0; a < 8; a++)
        {
            var d = c.Decide(Coding);
            Assert.Equal(a, d.Action.Index);
            Assert.True(d.Explored);
            var u = c.Complete(d, Rewards[a], TaskType.Coding);
            Assert.Equal(Rewards[a], u.AdjustedReward);
            Assert.Equal(Rewards[a], c.RoutingLearner.Value(s, a));
        }
        // All tried once: every bonus is sqrt(2 ln 8), so the best mean (action 5, 0.9) wins and is the greedy choice.
        var fifth = c.Decide(Coding);
        Assert.Equal((5, false), (fifth.Action.Index, fifth.Explored));
        var update = c.Complete(fifth, 0.5, TaskType.Coding);
        Assert.Equal(0.9, update.QBefore);
        Assert.Equal(0.7, update.QAfter, 1e-15);
        Assert.Equal(0.7, c.RoutingLearner.Value(s, 5), 1e-15);
        Assert.Equal((2L, 1.4, 9L), (B(c).Counts[s, 5], B(c).Sums[s, 5], B(c).StatePulls[s]));
        var ucb = (Ucb1Bandit)B(c);
        Assert.Equal(0.7 + Math.Sqrt(2 * Math.Log(9) / 2), ucb.Index(s, 5), 1e-15);
        Assert.Equal(0.7 + Math.Sqrt(2 * Math.Log(9)), ucb.Index(s, 7), 1e-15);
        // 5 and 7 tie on the mean (greedy takes the first, 5); 7's larger bonus routes the task there, counted as exploring.
        var next = c.Decide(Coding);
        Assert.Equal((7, true), (next.Action.Index, next.Explored));
        Assert.Equal(0, c.Epsilon);
        // The other states are untouched: all zero, and they start from action 0.
        Assert.All(c.States.Where(x => x != "coding"), x => Assert.All(Enumerable.Range(0, 8).Select(a => c.RoutingLearner.Value(c.StateIndex(x), a)), v => Assert.Equal(0, v)));
    }

    [Fact]
    public void Ucb1_breaks_ties_by_the_first_index()
    {
        var c = new TaskTypeCoordinator(new QLearningOptions(), new LoadTrackerOptions(), new ScriptedRandom(), RoutingAlgorithms.Ucb1);
        for (var a = 0; a < 8; a++)
            c.Complete(c.Decide(Coding), 0.5, TaskType.Coding);
        Assert.Equal(0, c.Decide(Coding).Action.Index);
        // Action 0 pulled twice now has the smaller bonus; 1..7 tie, so 1.
        c.Complete(c.Decide(Coding), 0.5, TaskType.Coding);
        Assert.Equal(1, c.Decide(Coding).Action.Index);
    }

    [Fact]
    public void Thompson_is_reproducible_from_its_seed_and_draws_one_normal_per_action()
    {
        RoutingAction[] Route(QLearningCoordinator c) => Enumerable.Range(0, 40).Select(i =>
        {
            var d = c.Decide(Coding);
            c.Complete(d, 0.1 * d.Action.Index + 0.01 * (i % 3), TaskType.Coding);
            return d.Action;
        }).ToArray();
        var first = Route(new TaskTypeCoordinator(new QLearningOptions(), new LoadTrackerOptions(), new SeededRandomSource(11), RoutingAlgorithms.Thompson));
        var second = Route(new TaskTypeCoordinator(new QLearningOptions(), new LoadTrackerOptions(), new SeededRandomSource(11), RoutingAlgorithms.Thompson));
        Assert.Equal(first, second);
        Assert.Equal(Enumerable.Range(0, 8), first.Take(8).Select(a => a.Index));

        var random = new SeededRandomSource(5);
        var twin = new SeededRandomSource(5);
        var c = new TaskTypeCoordinator(new QLearningOptions(), new LoadTrackerOptions(), random, RoutingAlgorithms.Thompson,
            new BanditOptions { ThompsonNoise = 0.2 });
        for (var a = 0; a < 8; a++)
            c.Complete(c.Decide(Coding), Rewards[a], TaskType.Coding);
        // The untried-first pulls drew nothing, so the twin stream replays the ninth choice's draws by hand.
        var best = -1;
        var bestDraw = double.NegativeInfinity;
        for (var a = 0; a < 8; a++)
        {
            var draw = Rewards[a] + 0.2 * ThompsonBandit.StandardNormal(twin);
            if (draw > bestDraw)
                (best, bestDraw) = (a, draw);
        }
        Assert.Equal(best, c.Decide(Coding).Action.Index);
        Assert.Equal(twin.Random(), random.Random());
    }

    [Fact]
    public void Load_balanced_bandit_learns_the_reward_less_the_penalty_in_its_type_and_load_state()
    {
        var c = new LoadBalancedCoordinator(QLearningOptions.LoadBalancedDefaults, new LoadTrackerOptions(), new ScriptedRandom(), RoutingAlgorithms.Ucb1);
        foreach (var a in new[] { AgentRole.Researcher, AgentRole.Researcher, AgentRole.Researcher, AgentRole.Analyst, AgentRole.Coder, AgentRole.Validator, AgentRole.Analyst })
            c.Load.Record(a);
        var d = c.Decide(Coding);
        Assert.Equal(("coding|researcher_hot", 0), (d.State, d.Action.Index));
        var u = c.Complete(d, 0.8, TaskType.Coding);
        Assert.True(u.Penalty > 0);
        Assert.Equal(Math.Max(0, 0.8 - u.Penalty), u.AdjustedReward);
        var s = c.StateIndex("coding|researcher_hot");
        Assert.Equal(u.AdjustedReward, c.RoutingLearner.Value(s, 0));
        Assert.Equal(u.AdjustedReward, B(c).Sums[s, 0]);
        Assert.Equal(0, c.RoutingLearner.Value(c.StateIndex("coding|balanced"), 0));
    }

    [Fact]
    public void Snapshot_restores_counts_and_means_and_refuses_another_algorithm()
    {
        var c = new TaskTypeCoordinator(new QLearningOptions(), new LoadTrackerOptions(), new ScriptedRandom(), RoutingAlgorithms.Ucb1);
        for (var i = 0; i < 11; i++)
            c.Complete(c.Decide(Coding), Rewards[i % 8], TaskType.Coding);
        // Through JSON, as the checkpoint file holds it.
        var saved = JsonSerializer.Deserialize<CoordinatorSnapshot>(JsonSerializer.Serialize(c.Snapshot(), Run.Json), Run.Json)!;
        Assert.Equal(RoutingAlgorithms.Ucb1, saved.Algorithm);
        var copy = new TaskTypeCoordinator(new QLearningOptions(), new LoadTrackerOptions(), new ScriptedRandom(), RoutingAlgorithms.Ucb1);
        copy.Restore(saved);
        Assert.Equal(c.SaveTable().Csv, copy.SaveTable().Csv);
        Assert.Equal(B(c).Counts, B(copy).Counts);
        Assert.Equal(B(c).Sums, B(copy).Sums);
        Assert.Equal(B(c).StatePulls, B(copy).StatePulls);
        Assert.Equal(c.Decide(Coding).Action, copy.Decide(Coding).Action);

        var q = new TaskTypeCoordinator(new QLearningOptions(), new LoadTrackerOptions(), new ScriptedRandom());
        var e = Assert.Throws<RoutingInputException>(() => q.Restore(saved));
        Assert.Equal("The saved coordinator learned with 'ucb1', not 'q-learning'.", e.Message);
        var thompson = new TaskTypeCoordinator(new QLearningOptions(), new LoadTrackerOptions(), new ScriptedRandom(), RoutingAlgorithms.Thompson);
        Assert.Throws<RoutingInputException>(() => thompson.Restore(saved));
    }

    [Fact]
    public void Unknown_algorithm_is_one_sentence_naming_the_learners()
    {
        var e = Assert.Throws<RoutingInputException>(() => new QlearnOptions { Algorithm = "sarsa" }.Resolve());
        Assert.Equal("Unknown learner 'sarsa'; the learners are q-learning, ucb1, thompson and composed.", e.Message);
        e = Assert.Throws<RoutingInputException>(() => QLearningCoordinator.Create("base", new QLearningOptions(), new LoadTrackerOptions(), new ScriptedRandom(), "sarsa"));
        Assert.Equal("Unknown learner 'sarsa'; the learners are q-learning, ucb1, thompson and composed.", e.Message);
    }

    [Fact]
    public void The_real_backend_with_a_replay_cassette_is_refused_in_one_sentence()
    {
        var e = Assert.Throws<RoutingInputException>(() => new QlearnOptions { Backend = QlearnOptions.Backends.Real, Replay = "calls.jsonl" }.Resolve());
        Assert.Equal("The real backend and a replay cassette cannot be combined: a replay makes no calls.", e.Message);
        Assert.Equal(QlearnOptions.Backends.Replay, new QlearnOptions { Replay = "calls.jsonl" }.Resolve().Backend);
    }

    [Theory]
    [InlineData(RoutingAlgorithms.Ucb1, "base")]
    [InlineData(RoutingAlgorithms.Thompson, "load-balanced")]
    public async Task A_stopped_bandit_run_resumes_exactly_and_its_bandit_table_holds_the_counts_and_sums(string algorithm, string learner)
    {
        using var tmp = new TempDir();
        var options = new QlearnOptions { Learner = learner, Algorithm = algorithm, Iterations = 40 };
        QlearnRequest Request(string dir, string? resume = null) => new() { Options = options, OutDirectory = resume is null ? dir : null, ResumeDirectory = resume, RunsRoot = dir + "-root" };
        await QlearnSession.RunAsync(Request(tmp["whole"]), new CollectingProgress(), default);

        using var cts = new CancellationTokenSource();
        var stopped = await QlearnSession.RunAsync(Request(tmp["part"]), new CollectingProgress(r => { if (r.Iteration == 14) cts.Cancel(); }), cts.Token);
        Assert.Equal(15, stopped.Outcome.IterationsDone);
        var resumed = await QlearnSession.RunAsync(Request(tmp["unused"], tmp["part"]), new CollectingProgress(), default);
        Assert.Equal(StopReason.Completed, resumed.Outcome.Reason);
        Assert.Equal(File.ReadAllText(tmp["whole/iterations.csv"]), File.ReadAllText(tmp["part/iterations.csv"]));
        Assert.Equal(File.ReadAllText(tmp["whole/artifacts/bandit.csv"]), File.ReadAllText(tmp["part/artifacts/bandit.csv"]));
        Assert.False(File.Exists(tmp["part/artifacts/qtable.json"]));
        Assert.Contains(algorithm, File.ReadAllText(tmp["part/config.json"]));

        // Each (state, action) cell counts the rows routed there and sums their adjusted rewards.
        var table = LearnedTable.Load(tmp["part/artifacts/bandit.json"]);
        Assert.Equal((learner, algorithm), (table.Learner, table.Algorithm));
        var rows = IterationRow.ReadCsv(tmp["part/iterations.csv"]).ToArray();
        Assert.Equal(40, rows.Length);
        for (var s = 0; s < table.States.Count; s++)
        {
            for (var a = 0; a < RoutingAction.Count; a++)
            {
                var mine = rows.Where(r => r.State == table.States[s] && r.Action == a).Select(r => r.AdjustedReward).ToArray();
                Assert.Equal(mine.Length, table.State.Bandit!.Counts[s][a]);
                Assert.Equal(mine.Sum(), table.State.Bandit.Sums[s][a], 1e-12);
            }
        }
        Assert.All(rows, r => Assert.Equal(0, r.Epsilon));
        Assert.StartsWith(algorithm == RoutingAlgorithms.Ucb1 ? "UCB1 routing" : "Thompson sampling routing", resumed.Report.Text);
        Assert.DoesNotContain("epsilon 0.000", resumed.Report.Text);
        Assert.Contains(algorithm == RoutingAlgorithms.Ucb1 ? "(UCB1 has no epsilon: it tries every action once, then follows its index)" : "(Thompson sampling has no epsilon: it tries every action once, then follows its draws)", resumed.Report.Text);
    }
}
