namespace RLWorkbench.Routing.Providers;

/// <summary>
/// A provider's health as continuous inputs for a network learner (PPO): four numbers per provider, each in [0, 1], with
/// "unknown" as its own flag rather than a value that could be mistaken for a reading.
/// </summary>
public static class ProviderHealthFeatures
{
    public const int PerProvider = 4;

    /// <summary>
    /// [headroom (0 when unknown or rate limited), headroom known, latency / (2 x slowSeconds) capped at 1 (0 when unknown),
    /// latency known]. A provider waiting out a 429 reads as known with no headroom.
    /// </summary>
    public static void Write(ProviderHealthSnapshot snapshot, HealthBucketOptions buckets, Span<float> into)
    {
        var headroomKnown = snapshot.IsRateLimited || snapshot.Headroom is not null;
        into[0] = snapshot.IsRateLimited ? 0f : (float)(snapshot.Headroom ?? 0);
        into[1] = headroomKnown ? 1f : 0f;
        into[2] = snapshot.LatencySeconds is { } l ? (float)Math.Min(1.0, l / (2 * buckets.SlowSeconds)) : 0f;
        into[3] = snapshot.LatencySeconds is null ? 0f : 1f;
    }
}
