using RLWorkbench.Gym.Evaluation;

namespace RLWorkbench.Simulation.Tests;

public class GreedyAssignmentPolicyTests
{
    private sealed record AgentView(float Capacity, float Load, float SuccessRate, float Research, float Analysis);

    /// <summary>A seed67 observation with the given agents and queued task types (head first).</summary>
    private static float[] Observation(AgentView[] agents, TaskType[] queue, int? queueLength = null)
    {
        var n = agents.Length;
        var obs = new float[ObservationEncoder.SizeFor(ObservationLayout.Seed67, n)];
        for (var i = 0; i < n; i++)
        {
            var a = agents[i];
            float[] block = [a.Capacity, a.Load, 0.1f, a.SuccessRate, 1f, a.Research, a.Analysis];
            block.CopyTo(obs, 7 * i);
        }
        for (var s = 0; s < Math.Min(4, queue.Length); s++)
        {
            float[] slot = [0.5f, 0.5f, 30f, 1f, ObservationEncoder.TypeCode(queue[s])];
            slot.CopyTo(obs, 7 * n + 5 * s);
        }
        obs[7 * n + 20] = queueLength ?? queue.Length;
        obs.AsSpan(7 * n + 23).Fill(1f);
        return obs;
    }

    private static float[] Act(GreedyAssignmentPolicy policy, float[] obs, int agents)
    {
        var action = new float[3 * agents];
        policy.Act(obs, action);
        return action;
    }

    [Fact]
    public void One_queued_task_goes_to_the_agent_with_the_best_squared_expertise_times_capacity_times_success_rate_less_load()
    {
        AgentView[] agents =
        [
            new(0.8f, 0f, 1.0f, 0.9f, 0.5f),  // 0.81 x 0.8 = 0.648
            new(1.0f, 0f, 0.7f, 0.95f, 0.5f), // 0.9025 x 0.7 = 0.632
            new(0.9f, 0f, 1.0f, 0.85f, 0.5f), // 0.7225 x 0.9 = 0.650: the best
            new(1.0f, 1.5f, 1.0f, 0.85f, 0.5f), // 0.7225 - 0.05 x 1.5 = 0.6475
        ];
        var action = Act(new GreedyAssignmentPolicy(4), Observation(agents, [TaskType.Research]), 4);
        Assert.Equal([0f, 0f, 1f, 0f, 0f, 1f, 1f, 1f, 1f, 0f, 0f, 1f], action);
    }

    [Fact]
    public void Agent_order_decides_who_pops_which_task_so_the_best_set_can_skip_the_best_single_match()
    {
        // Queue: analysis, then research. The k-th assigning agent takes the k-th task, so agent 0 (the
        // best researcher) can never get the research task behind the analysis task while agent 1 assigns.
        AgentView[] agents =
        [
            new(1f, 0f, 1f, 1.0f, 0.5f),
            new(1f, 0f, 1f, 0.5f, 1.0f),
            new(1f, 0f, 1f, 0.6f, 0.6f),
            new(1f, 0f, 1f, 0.9f, 0.5f),
        ];
        // Sets {i < j}: i analysis, j research. {1, 3}: 1.0 + 0.81 = 1.81 beats {1, 2}: 1.36,
        // {0, 3}: 1.06 and every single agent (at most 1.0).
        var action = Act(new GreedyAssignmentPolicy(4), Observation(agents, [TaskType.Analysis, TaskType.Research]), 4);
        Assert.Equal([0f, 0f, 1f, 1f, 1f, 1f, 0f, 0f, 1f, 1f, 1f, 1f], action);
        Assert.Equal(0b1010, new GreedyAssignmentPolicy(4).ChooseAssignees(Observation(agents, [TaskType.Analysis, TaskType.Research])));
    }

    [Fact]
    public void A_type_whose_expertise_is_hidden_counts_as_0_75_unless_the_policy_is_given_the_hidden_values()
    {
        AgentView[] agents =
        [
            new(0.9f, 0f, 1f, 1f, 1f),
            new(1.0f, 0f, 1f, 0.5f, 0.5f),
            new(1.0f, 0.5f, 1f, 1f, 1f),
            new(0.95f, 0f, 1f, 1f, 1f),
        ];
        var obs = Observation(agents, [TaskType.Validation]);
        // Observation only: 0.5625 x capacity x success rate less load, so agent 1 (capacity 1, no load).
        Assert.Equal(0b0010, new GreedyAssignmentPolicy(4).ChooseAssignees(obs));

        double[] validation = [1.0, 0.6, 0.9, 0.7];
        var full = new GreedyAssignmentPolicy(4, (i, type) => type == TaskType.Validation ? validation[i] : 0.5);
        // 1.0 x 0.9 = 0.9 beats 0.81 - 0.025 = 0.785 (agent 2), 0.36 and 0.4655.
        Assert.Equal(0b0001, full.ChooseAssignees(obs));
    }

    [Fact]
    public void With_an_empty_queue_nobody_assigns_and_everybody_collaborates()
    {
        var agents = Enumerable.Repeat(new AgentView(1f, 0f, 1f, 0.8f, 0.8f), 3).ToArray();
        var action = Act(new GreedyAssignmentPolicy(3), Observation(agents, []), 3);
        Assert.Equal([0f, 0f, 1f, 0f, 0f, 1f, 0f, 0f, 1f], action);
    }

    [Fact]
    public void Tasks_beyond_the_four_visible_slots_are_never_popped()
    {
        // Five equal agents, six queued tasks of which four are visible: four agents assign, the first
        // four found (every four-agent set scores the same).
        var agents = Enumerable.Repeat(new AgentView(1f, 0f, 1f, 0.8f, 0.8f), 5).ToArray();
        var obs = Observation(agents, [TaskType.Research, TaskType.Research, TaskType.Research, TaskType.Research], queueLength: 6);
        Assert.Equal(0b01111, new GreedyAssignmentPolicy(5).ChooseAssignees(obs));
    }

    [Fact]
    public void An_observation_of_another_layout_is_refused_naming_both_sizes()
    {
        var e = Assert.Throws<ArgumentException>(() => new GreedyAssignmentPolicy(4).Act(new float[94], new float[12]));
        Assert.StartsWith("The observation has 94 values; the greedy policy reads the seed67 layout, 67 values for 4 agents.", e.Message);
    }

    [Fact]
    public void Over_ten_seeded_episodes_greedy_beats_all_ones_and_hidden_expertise_helps_further()
    {
        // Means over seeds 0..9 (base variant, 4 agents), pinned: a change in the rule or the dynamics shows here.
        using var env = new TaskEnvironment(new TaskEnvironmentOptions(), seed: 0);
        var ones = MeanReturn(env, (_, a) => a.Fill(1f));
        var greedy = MeanReturn(env, new GreedyAssignmentPolicy(4).Act);
        var full = MeanReturn(env, new GreedyAssignmentPolicy(4, (i, type) => env.Agents[i].Expertise[(int)type]).Act);
        Assert.Equal(1462.1018282790465, ones, 9);
        Assert.Equal(1534.2883863896272, greedy, 9);
        Assert.Equal(1558.9074295428734, full, 9);
    }

    private static double MeanReturn(TaskEnvironment env, Policy policy) =>
        PolicyRunner.Run(env, policy, episodes: 10, seed: 0).Average(e => e.Return);
}
