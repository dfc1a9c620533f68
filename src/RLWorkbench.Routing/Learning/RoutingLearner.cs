using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Learning;

/// <summary>What one step did, beyond the reward it earned.</summary>
public readonly record struct RoutedTask(
    RoutingTask Task,
    int Action,
    double RawReward,
    double Penalty,
    double AdjustedReward,
    bool ParseFailure,
    double AgentCostUsd,
    double JudgeCostUsd);

/// <summary>
/// What a learner sees before it routes a task: the task, its state, the load window (only the oracle reads it) and,
/// where an environment writes one, the task's observation vector (only PPO reads it; the array is the caller's and is
/// valid for the call).
/// </summary>
public readonly record struct RoutingContext(RoutingTask Task, int TypeIndex, int LoadStateIndex, int State, LoadTracker Load, float[]? Observation = null);

/// <summary>
/// A learner that routes one task at a time: choose an action for the state, learn from what the task earned, and say
/// which policy it would follow if it stopped learning now (evaluated exactly at each checkpoint).
/// PPO fits it too: its trainer is stepped from outside (the comparison's PpoRoutingLearner).
/// </summary>
public interface IRoutingLearner
{
    long LearnedParameters { get; }

    int Choose(in RoutingContext context);

    void Learn(in RoutingContext context, in RoutedTask outcome);

    RoutingPolicy GreedyPolicy();
}

/// <summary>A learner's routing policy as the comparison's exact evaluation (PolicyValuer) sees it.</summary>
public abstract record RoutingPolicy;

/// <summary>One action per state: every learner's greedy policy.</summary>
public sealed record TablePolicy(int[] ActionPerState) : RoutingPolicy
{
    public string Key => string.Join(',', ActionPerState);
}

/// <summary>Every action equally likely, whatever the state (the uniform random baseline).</summary>
public sealed record UniformPolicy : RoutingPolicy;

/// <summary>A fixed sequence of actions repeated forever, blind to the task (round-robin and least-recently-used baselines).</summary>
public sealed record CyclicPolicy(int[] Sequence) : RoutingPolicy;

/// <summary>
/// Knows the profile: the action with the highest expected reward for the task's type, less the load penalty it would incur
/// now (it sees the whole load window, not only the load state).
/// </summary>
public sealed record OraclePolicy : RoutingPolicy;
