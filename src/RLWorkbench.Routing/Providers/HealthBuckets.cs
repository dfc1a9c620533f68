using System.Globalization;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Providers;

/// <summary>How close a provider is to its rate limit, as a tabular learner's state sees it.</summary>
public enum HeadroomLevel
{
    /// <summary>No usable rate-limit headers yet (or they were garbage, or too old).</summary>
    Unknown,

    /// <summary>Nothing left in the window, or a 429's Retry-After has not passed.</summary>
    Exhausted,

    /// <summary>Some left, less than <see cref="HealthBucketOptions.LowHeadroom"/> of the limit.</summary>
    Low,

    Ample,
}

/// <summary>How slow a provider's smoothed latency is, as a tabular learner's state sees it.</summary>
public enum LatencyLevel
{
    /// <summary>No answer measured yet.</summary>
    Unknown,

    Fast,

    Normal,

    Slow,
}

/// <summary>Where the buckets split. Defaults: "low" under a fifth of the limit; "slow" from 5 s, where the seed's latency term saturates.</summary>
public sealed record HealthBucketOptions
{
    public double LowHeadroom { get; init; } = 0.2;

    public double FastSeconds { get; init; } = 2.0;

    public double SlowSeconds { get; init; } = 5.0;

    public void Validate()
    {
        if (!(LowHeadroom > 0 && LowHeadroom < 1))
            throw new RoutingInputException(string.Create(CultureInfo.InvariantCulture, $"lowHeadroom must be between 0 and 1 (exclusive), not {LowHeadroom}."));
        if (!(double.IsFinite(FastSeconds) && FastSeconds > 0 && double.IsFinite(SlowSeconds) && SlowSeconds > FastSeconds))
            throw new RoutingInputException(string.Create(CultureInfo.InvariantCulture, $"fastSeconds ({FastSeconds}) must be above 0 and below slowSeconds ({SlowSeconds}), both finite."));
    }
}

/// <summary>One provider's bucketed health: 4 x 4 = 16 states, "unknown" on each axis included.</summary>
public readonly record struct ProviderHealthState(HeadroomLevel Headroom, LatencyLevel Latency)
{
    public const int Count = 16;

    public int Index => (int)Headroom * 4 + (int)Latency;

    public string Label => $"{Headroom.ToString().ToLowerInvariant()}/{Latency.ToString().ToLowerInvariant()}";

    public static ProviderHealthState FromIndex(int index) =>
        index is >= 0 and < Count
            ? new ProviderHealthState((HeadroomLevel)(index / 4), (LatencyLevel)(index % 4))
            : throw new ArgumentOutOfRangeException(nameof(index), $"A provider health state is 0..{Count - 1}, not {index}.");
}

/// <summary>
/// Turns providers' continuous health (headroom share, smoothed seconds) into the few discrete states a tabular learner
/// can afford. Pure: the same snapshot always gives the same state.
/// </summary>
public sealed class HealthBuckets
{
    public HealthBuckets(HealthBucketOptions? options = null)
    {
        Options = options ?? new HealthBucketOptions();
        Options.Validate();
    }

    public HealthBucketOptions Options { get; }

    public HeadroomLevel Headroom(double? headroom, bool rateLimited) => (headroom, rateLimited) switch
    {
        (_, true) => HeadroomLevel.Exhausted,
        (null, _) => HeadroomLevel.Unknown,
        ({ } h, _) when h <= 0 => HeadroomLevel.Exhausted,
        ({ } h, _) when h < Options.LowHeadroom => HeadroomLevel.Low,
        _ => HeadroomLevel.Ample,
    };

    public LatencyLevel Latency(double? seconds) => seconds switch
    {
        null => LatencyLevel.Unknown,
        { } s when s < Options.FastSeconds => LatencyLevel.Fast,
        { } s when s < Options.SlowSeconds => LatencyLevel.Normal,
        _ => LatencyLevel.Slow,
    };

    public ProviderHealthState Of(ProviderHealthSnapshot snapshot) =>
        new(Headroom(snapshot.Headroom, snapshot.IsRateLimited), Latency(snapshot.LatencySeconds));

    /// <summary>The joint state of several providers, mixed-radix in the order given (16^n states for n providers).</summary>
    public static int JointIndex(IReadOnlyList<ProviderHealthState> states)
    {
        var index = 0;
        foreach (var s in states)
            index = checked(index * ProviderHealthState.Count + s.Index);
        return index;
    }

    public static string JointLabel(IReadOnlyList<ProviderHealthSnapshot> snapshots, IReadOnlyList<ProviderHealthState> states) =>
        string.Join(" ", snapshots.Zip(states, (p, s) => $"{p.Provider.Name()}:{s.Label}"));
}
