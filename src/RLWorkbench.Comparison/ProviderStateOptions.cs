using RLWorkbench.Routing.Providers;

namespace RLWorkbench.Comparison;

/// <summary>
/// Provider load and latency as continuous inputs (issue 14 item 1, for PPO): the simulated backend enforces the profile's
/// rate limits on a virtual clock that tasks arrive on, and the observation appends <see cref="ProviderHealthFeatures"/>
/// for each provider after the one-hots.
/// </summary>
public sealed record ProviderStateOptions(SimulatedRateLimits Limits, double ArrivalsPerMinute, int Retries, HealthBucketOptions Buckets)
{
    /// <summary>
    /// What the exact greedy read-out over problem states feeds as each provider's health: a full window (headroom 1, known)
    /// and latency unknown. The exact valuer models no rate limits, so the read-out asks "what would you do with ample room",
    /// the one health the valuer's numbers describe.
    /// </summary>
    public static ReadOnlySpan<float> AssumedHealth => [1f, 1f, 0f, 0f];

}
