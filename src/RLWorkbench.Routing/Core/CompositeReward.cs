namespace RLWorkbench.Routing.Core;

/// <summary>The reward's knobs; defaults are the seed's.</summary>
public sealed record RewardOptions
{
    /// <summary>Cost (USD) at which the cost term saturates.</summary>
    public double CostScaleUsd { get; init; } = 0.002;

    /// <summary>Latency (seconds) at which the latency term saturates.</summary>
    public double LatencyScaleSeconds { get; init; } = 5.0;

    public double CostWeight { get; init; } = 0.10;

    public double LatencyWeight { get; init; } = 0.05;
}

/// <summary>
/// reward = clip(quality - 0.10 x min(cost / 0.002, 1) - 0.05 x min(latency / 5, 1), 0, 1), where cost and latency are the
/// agent call's only: the judge's price is the cost of measuring, not of the choice being rewarded.
/// </summary>
public sealed class CompositeReward(RewardOptions options)
{
    public RewardOptions Options { get; } = options;

    public double Compute(JudgeVerdict verdict, double agentCostUsd, double agentLatencySeconds)
    {
        var cost = Math.Min(agentCostUsd / Options.CostScaleUsd, 1.0);
        var latency = Math.Min(agentLatencySeconds / Options.LatencyScaleSeconds, 1.0);
        return Math.Clamp(verdict.Quality - Options.CostWeight * cost - Options.LatencyWeight * latency, 0.0, 1.0);
    }
}
