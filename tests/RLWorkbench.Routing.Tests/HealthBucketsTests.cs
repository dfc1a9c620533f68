using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Providers;

namespace RLWorkbench.Routing.Tests;

public class HealthBucketsTests
{
    private static readonly HealthBuckets Buckets = new();

    private static ProviderHealthSnapshot Snapshot(double? requestHeadroom, double? tokenHeadroom, double? latency, bool rateLimited = false, Provider? provider = null) =>
        new(provider ?? Provider.OpenAI, RateLimitWindow.Unknown, RateLimitWindow.Unknown, requestHeadroom, tokenHeadroom, latency, latency is null ? 0 : 1, 1, rateLimited ? 1 : 0, null)
        {
            IsRateLimited = rateLimited,
        };

    [Theory]
    [InlineData(null, false, HeadroomLevel.Unknown)]
    [InlineData(null, true, HeadroomLevel.Exhausted)]
    [InlineData(0.0, false, HeadroomLevel.Exhausted)]
    [InlineData(0.9, true, HeadroomLevel.Exhausted)]
    [InlineData(0.01, false, HeadroomLevel.Low)]
    [InlineData(0.1999, false, HeadroomLevel.Low)]
    [InlineData(0.2, false, HeadroomLevel.Ample)]
    [InlineData(1.0, false, HeadroomLevel.Ample)]
    public void Headroom_buckets(double? headroom, bool rateLimited, HeadroomLevel level) => Assert.Equal(level, Buckets.Headroom(headroom, rateLimited));

    [Theory]
    [InlineData(null, LatencyLevel.Unknown)]
    [InlineData(0.0, LatencyLevel.Fast)]
    [InlineData(1.999, LatencyLevel.Fast)]
    [InlineData(2.0, LatencyLevel.Normal)]
    [InlineData(4.99, LatencyLevel.Normal)]
    [InlineData(5.0, LatencyLevel.Slow)]
    [InlineData(120.0, LatencyLevel.Slow)]
    public void Latency_buckets(double? seconds, LatencyLevel level) => Assert.Equal(level, Buckets.Latency(seconds));

    [Fact]
    public void A_snapshot_takes_the_tighter_window_and_its_state_has_an_index_and_a_label()
    {
        var state = Buckets.Of(Snapshot(0.9, 0.1, 6.2));
        Assert.Equal(new ProviderHealthState(HeadroomLevel.Low, LatencyLevel.Slow), state);
        Assert.Equal((2 * 4 + 3, "low/slow"), (state.Index, state.Label));
        Assert.Equal(state, ProviderHealthState.FromIndex(state.Index));
        Assert.Equal((0, "unknown/unknown"), (Buckets.Of(Snapshot(null, null, null)).Index, Buckets.Of(Snapshot(null, null, null)).Label));
        Assert.Equal(Enumerable.Range(0, 16), Enumerable.Range(0, 16).Select(i => ProviderHealthState.FromIndex(i).Index));
        Assert.Throws<ArgumentOutOfRangeException>(() => ProviderHealthState.FromIndex(16));
    }

    [Fact]
    public void Providers_combine_into_one_joint_state()
    {
        var snapshots = new[] { Snapshot(0.5, null, 1.0), Snapshot(null, null, 3.0, rateLimited: true, provider: Provider.Anthropic) };
        var states = snapshots.Select(Buckets.Of).ToArray();
        Assert.Equal((3 * 4 + 1) * 16 + (1 * 4 + 2), HealthBuckets.JointIndex(states));
        Assert.Equal("openai:ample/fast anthropic:exhausted/normal", HealthBuckets.JointLabel(snapshots, states));
    }

    [Theory]
    [InlineData(0.0, 2.0, 5.0, "lowHeadroom must be between 0 and 1 (exclusive), not 0.")]
    [InlineData(1.0, 2.0, 5.0, "lowHeadroom must be between 0 and 1 (exclusive), not 1.")]
    [InlineData(0.2, 5.0, 5.0, "fastSeconds (5) must be above 0 and below slowSeconds (5), both finite.")]
    [InlineData(0.2, 0.0, 5.0, "fastSeconds (0) must be above 0 and below slowSeconds (5), both finite.")]
    [InlineData(0.2, 1.0, double.PositiveInfinity, "fastSeconds (1) must be above 0 and below slowSeconds (Infinity), both finite.")]
    public void Bad_bucket_edges_are_one_sentence(double low, double fast, double slow, string message) =>
        Assert.Equal(message, Assert.Throws<RoutingInputException>(() => new HealthBuckets(new HealthBucketOptions { LowHeadroom = low, FastSeconds = fast, SlowSeconds = slow })).Message);

    [Fact]
    public void Continuous_features_flag_what_is_unknown()
    {
        var into = new float[ProviderHealthFeatures.PerProvider];
        ProviderHealthFeatures.Write(Snapshot(0.5, 0.25, 2.5), new HealthBucketOptions(), into);
        Assert.Equal([0.25f, 1f, 0.25f, 1f], into);
        ProviderHealthFeatures.Write(Snapshot(null, null, null), new HealthBucketOptions(), into);
        Assert.Equal([0f, 0f, 0f, 0f], into);
        ProviderHealthFeatures.Write(Snapshot(0.8, null, 40, rateLimited: true), new HealthBucketOptions(), into);
        Assert.Equal([0f, 1f, 1f, 1f], into);
    }
}
