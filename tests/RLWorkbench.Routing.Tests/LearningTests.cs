using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;

namespace RLWorkbench.Routing.Tests;

public class LoadTrackerTests
{
    private static LoadTracker With(params AgentRole[] agents)
    {
        var t = new LoadTracker(new LoadTrackerOptions());
        foreach (var a in agents)
            t.Record(a);
        return t;
    }

    private const AgentRole R = AgentRole.Researcher;
    private const AgentRole A = AgentRole.Analyst;
    private const AgentRole C = AgentRole.Coder;
    private const AgentRole V = AgentRole.Validator;

    [Fact]
    public void Empty_tracker_is_balanced_with_zero_utilisation_and_imbalance()
    {
        var t = With();
        Assert.Equal([0.0, 0.0, 0.0, 0.0], t.Utilisations());
        Assert.Equal(0.0, t.Imbalance);
        Assert.Equal("balanced", t.LoadState);
        Assert.Equal(0.375, t.HotThreshold, 12);
    }

    [Fact]
    public void Fewer_than_three_entries_is_balanced_even_when_one_agent_has_them_all()
    {
        Assert.Equal("balanced", With(C, C).LoadState);
        Assert.Equal("coder_hot", With(C, C, C).LoadState);
        Assert.Equal("coder_hot", With(C, C, A).LoadState);
    }

    [Theory]
    [InlineData(2, 0.0)]   // 25% = fair share
    [InlineData(3, 0.075)] // 37.5%
    [InlineData(4, 0.15)]  // 50%
    [InlineData(6, 0.20)]  // 75%: 0.30 capped
    public void Penalty_matches_the_spec_examples(int researcherCount, double penalty)
    {
        var others = new[] { A, C, V, A, C, V };
        var t = With([.. Enumerable.Repeat(R, researcherCount), .. others.Take(8 - researcherCount)]);
        Assert.Equal(8, t.Window.Count);
        Assert.Equal(penalty, t.Penalty(R), 12);
    }

    [Fact]
    public void Hot_means_strictly_above_one_and_a_half_times_the_fair_share()
    {
        Assert.Equal("balanced", With(R, R, R, A, C, V, A, C).LoadState); // 37.5% is not above 0.375
        Assert.Equal("researcher_hot", With(R, R, R, R, A, C, V, A).LoadState);
    }

    [Fact]
    public void Ties_go_to_the_first_agent_in_agent_order()
    {
        Assert.Equal("analyst_hot", With(V, V, A, A).LoadState);
        Assert.Equal("researcher_hot", With(C, C, R, R).LoadState);
    }

    [Fact]
    public void Window_keeps_the_last_eight_and_lifetime_counts_keep_everything()
    {
        var t = With(R, R, R, R, R, A, A, A, A, A, A);
        Assert.Equal(8, t.Window.Count);
        Assert.Equal(2.0 / 8, t.Utilisation(R), 12);
        Assert.Equal(6.0 / 8, t.Utilisation(A), 12);
        Assert.Equal([5L, 6L, 0L, 0L], t.LifetimeCounts);
        Assert.Equal(11, t.LifetimeTotal);
    }

    [Fact]
    public void Imbalance_is_the_population_coefficient_of_variation()
    {
        // utilisations 0.5, 0.25, 0.25, 0: mean 0.25, population std sqrt(0.03125)
        Assert.Equal(Math.Sqrt(0.03125) / 0.25, With(R, R, A, C).Imbalance, 12);
        Assert.Equal(0.0, With(R, A, C, V).Imbalance, 12);
        Assert.Equal(Math.Sqrt(3), With(C, C, C).Imbalance, 12);
    }
}

public class CoordinatorTests
{
    private static TabularQLearner Q(QLearningCoordinator c) => (TabularQLearner)c.RoutingLearner;

    private static readonly RoutingTask Coding = new("c1", "d", TaskType.Coding, 0.6, 0.9);

    [Fact]
    public void Base_coordinator_is_four_by_eight_zeros_with_the_seed_defaults()
    {
        var c = new TaskTypeCoordinator(new QLearningOptions(), new LoadTrackerOptions(), new ScriptedRandom());
        Assert.Equal(["analysis", "coding", "research", "validation"], c.States);
        Assert.All(Enumerable.Range(0, 4), s => Assert.Equal(new double[8], Q(c).Row(s)));
        Assert.Equal((0.15, 0.95, 1.0, 0.97, 0.05), (c.Options.LearningRate, c.Options.Gamma, c.Epsilon, c.Options.EpsilonDecay, c.Options.EpsilonFloor));
    }

    [Fact]
    public void Greedy_choice_takes_the_first_index_on_ties()
    {
        var c = new TaskTypeCoordinator(new QLearningOptions(), new LoadTrackerOptions(), new ScriptedRandom(("random", 0.5), ("random", 0.5)));
        var d = c.Decide(Coding, epsilonOverride: 0.1);
        Assert.False(d.Explored);
        Assert.Equal(0, d.Action.Index);
        Q(c)[1, 3] = 0.4;
        Q(c)[1, 6] = 0.4;
        Assert.Equal(3, c.Decide(Coding, epsilonOverride: 0.1).Action.Index);
    }

    [Fact]
    public void Exploration_draws_a_uniform_action_when_the_draw_is_below_epsilon()
    {
        var c = new TaskTypeCoordinator(new QLearningOptions(), new LoadTrackerOptions(), new ScriptedRandom(("random", 0.99), ("choice", 5)));
        var d = c.Decide(Coding);
        Assert.True(d.Explored);
        Assert.Equal(new RoutingAction(AgentRole.Coder, Provider.Anthropic), d.Action);
        Assert.Equal("coding", d.State);
    }

    [Fact]
    public void Update_bootstraps_from_the_next_types_row_and_decays_epsilon()
    {
        var c = new TaskTypeCoordinator(new QLearningOptions(), new LoadTrackerOptions(), new ScriptedRandom(("random", 0.0), ("choice", 4)));
        Q(c)[2, 1] = 0.5; // research row max
        var d = c.Decide(Coding);
        var u = c.Complete(d, reward: 0.8, nextType: TaskType.Research);
        // Q = 0 + 0.15 x (0.8 + 0.95 x 0.5 - 0)
        Assert.Equal(0.15 * (0.8 + 0.95 * 0.5), Q(c)[1, 4], 12);
        Assert.Equal("research", u.NextState);
        Assert.Equal(0.0, u.Penalty);
        Assert.Equal(0.8, u.AdjustedReward);
        Assert.Equal(0.97, c.Epsilon, 12);
    }

    [Fact]
    public void Epsilon_decays_geometrically_to_the_floor()
    {
        var draws = Enumerable.Range(0, 200).SelectMany(_ => new[] { ("random", 0.99), ("random", 0.0), ("choice", 0.0) })
            .Where((_, i) => i % 3 != 0).ToArray();
        var c = new TaskTypeCoordinator(new QLearningOptions(), new LoadTrackerOptions(), new ScriptedRandom(draws));
        for (var i = 0; i < 10; i++)
            c.Complete(c.Decide(Coding), 0.5, TaskType.Coding);
        Assert.Equal(Math.Pow(0.97, 10), c.Epsilon, 12);
        for (var i = 0; i < 90; i++)
            c.Complete(c.Decide(Coding), 0.5, TaskType.Coding);
        Assert.Equal(0.05, c.Epsilon, 12);
    }

    [Fact]
    public void Load_balanced_coordinator_is_twenty_by_eight_and_decays_by_0_98()
    {
        var c = new LoadBalancedCoordinator(QLearningOptions.LoadBalancedDefaults, new LoadTrackerOptions(), new ScriptedRandom(("random", 0.0), ("choice", 0)));
        Assert.Equal(20, c.States.Count);
        Assert.Equal("analysis|balanced", c.States[0]);
        Assert.Equal("validation|validator_hot", c.States[19]);
        c.Complete(c.Decide(Coding), 0.5, TaskType.Coding);
        Assert.Equal(0.98, c.Epsilon, 12);
    }

    [Fact]
    public void Load_balanced_update_reads_the_penalty_before_recording_and_the_next_state_after()
    {
        var c = new LoadBalancedCoordinator(QLearningOptions.LoadBalancedDefaults, new LoadTrackerOptions(),
            new ScriptedRandom(("random", 0.0), ("choice", 0)));
        // Window: researcher x3 of 7 -> 42.9%, hot (above 37.5%).
        foreach (var a in new[] { AgentRole.Researcher, AgentRole.Researcher, AgentRole.Researcher, AgentRole.Analyst, AgentRole.Coder, AgentRole.Validator, AgentRole.Analyst })
            c.Load.Record(a);
        var d = c.Decide(Coding);
        Assert.Equal("researcher_hot", d.LoadState);
        Assert.Equal("coding|researcher_hot", d.State);
        Assert.Equal(AgentRole.Researcher, d.Action.Agent);
        var nextRow = c.StateIndex("research|researcher_hot");
        Q(c)[nextRow, 2] = 0.4;
        var u = c.Complete(d, reward: 0.5, nextType: TaskType.Research);
        // penalty from 3/7 before recording: (3/7 / 0.25 - 1) x 0.15
        var penalty = (3.0 / 7 / 0.25 - 1) * 0.15;
        Assert.Equal(penalty, u.Penalty, 12);
        Assert.Equal(0.5 - penalty, u.AdjustedReward, 12);
        // after recording: 4 of 8 researcher -> still hot, next state uses it
        Assert.Equal("research|researcher_hot", u.NextState);
        Assert.Equal(0.15 * (0.5 - penalty + 0.95 * 0.4), Q(c)[d.StateIndex, 0], 12);
        Assert.Equal(0.5, u.Utilisations[0], 12);
    }

    [Fact]
    public void Adjusted_reward_never_goes_below_zero()
    {
        var c = new LoadBalancedCoordinator(QLearningOptions.LoadBalancedDefaults, new LoadTrackerOptions(), new ScriptedRandom(("random", 0.0), ("choice", 4)));
        for (var i = 0; i < 8; i++)
            c.Load.Record(AgentRole.Coder);
        var u = c.Complete(c.Decide(Coding), reward: 0.1, nextType: TaskType.Coding);
        Assert.Equal(0.20, u.Penalty, 12);
        Assert.Equal(0.0, u.AdjustedReward);
    }

    [Fact]
    public void Snapshot_round_trips_table_epsilon_and_load()
    {
        var c = new LoadBalancedCoordinator(QLearningOptions.LoadBalancedDefaults, new LoadTrackerOptions(), new ScriptedRandom(("random", 0.0), ("choice", 4)));
        c.Complete(c.Decide(Coding), 0.7, TaskType.Coding);
        var copy = new LoadBalancedCoordinator(QLearningOptions.LoadBalancedDefaults, new LoadTrackerOptions(), new ScriptedRandom());
        copy.Restore(c.Snapshot());
        Assert.Equal(c.SaveTable().Csv, copy.SaveTable().Csv);
        Assert.Equal(c.Epsilon, copy.Epsilon);
        Assert.Equal(c.Load.LifetimeCounts, copy.Load.LifetimeCounts);
        Assert.Throws<RoutingInputException>(() => new TaskTypeCoordinator(new QLearningOptions(), new LoadTrackerOptions(), new ScriptedRandom()).Restore(c.Snapshot()));
    }

    [Fact]
    public void Unknown_learner_is_refused()
    {
        var e = Assert.Throws<RoutingInputException>(() => QLearningCoordinator.Create("sarsa", new QLearningOptions(), new LoadTrackerOptions(), new ScriptedRandom()));
        Assert.Equal("Unknown learner 'sarsa'; the learners are base and load-balanced.", e.Message);
    }
}
