using RLWorkbench.Routing.Chat;

namespace RLWorkbench.Routing.Core;

/// <summary>
/// What one routed task achieved on each objective, kept apart so a run can be scored again under other weights:
/// the judge's quality in [0, 1]; the agent calls' cost in USD and latency in seconds (summed over a chain's steps, which
/// run one after the other; the judge's call is the cost of measuring, not of the choice, as in the seed's reward); and
/// the load-fairness cost of the choice, the seed's load penalty of the chosen agent read before the assignment
/// (0 when the load is fair, up to the penalty cap). Quality is to be maximised, the other three minimised.
/// </summary>
public sealed record RewardVector
{
    public RewardVector(double quality, double costUsd, double latencySeconds, double fairness)
    {
        Quality = Checked(quality, nameof(quality), 1.0);
        CostUsd = Checked(costUsd, nameof(costUsd), double.MaxValue);
        LatencySeconds = Checked(latencySeconds, nameof(latencySeconds), double.MaxValue);
        Fairness = Checked(fairness, nameof(fairness), double.MaxValue);
    }

    public double Quality { get; }

    public double CostUsd { get; }

    public double LatencySeconds { get; }

    public double Fairness { get; }

    /// <summary>The vector of a task whose agent calls (one, or a chain's steps) are <paramref name="agentCalls"/>.</summary>
    public static RewardVector Of(JudgeVerdict verdict, IEnumerable<CallRecord> agentCalls, double loadPenalty)
    {
        var cost = 0.0;
        var latency = 0.0;
        foreach (var call in agentCalls)
        {
            cost += call.CostUsd;
            latency += call.LatencySeconds;
        }
        return new RewardVector(verdict.Quality, cost, latency, loadPenalty);
    }

    /// <summary>The same task with its load penalty, which the learner reads when it records the assignment, after the calls.</summary>
    public RewardVector WithFairness(double loadPenalty) => new(Quality, CostUsd, LatencySeconds, loadPenalty);

    private static double Checked(double value, string name, double max) =>
        double.IsFinite(value) && value >= 0 && value <= max
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"A reward vector's {name} must be finite and in [0, {max}].");
}
