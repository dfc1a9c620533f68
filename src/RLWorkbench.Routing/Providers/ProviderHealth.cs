using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Providers;

/// <summary>How a provider's health is kept; defaults suit a router that sees a few calls a minute or more.</summary>
public sealed record ProviderHealthOptions
{
    /// <summary>
    /// Weight of the newest answer in the smoothed latency (an exponentially weighted moving average, as TCP smooths its
    /// round-trip time). 0.2 remembers about the last nine answers ((2 - a) / a), so a provider that slows down shows it
    /// within a handful of calls while one slow answer moves the average by a fifth of its excess.
    /// </summary>
    public double LatencySmoothing { get; init; } = 0.2;

    /// <summary>
    /// A rate-limit reading with no reset instant is trusted this long; after that the window is unknown again, because the
    /// providers' windows are a minute long and an old remaining count says nothing about now.
    /// </summary>
    public double ReadingLifetimeSeconds { get; init; } = 60.0;
}

/// <summary>One provider's state as a router reads it: every part may be unknown (null).</summary>
public sealed record ProviderHealthSnapshot(
    Provider Provider,
    RateLimitWindow Requests,
    RateLimitWindow Tokens,
    double? RequestHeadroom,
    double? TokenHeadroom,
    double? LatencySeconds,
    long LatencySamples,
    long Responses,
    long RateLimitedResponses,
    DateTimeOffset? RateLimitedUntil)
{
    /// <summary>The tighter of the two windows' headroom; null when neither is known.</summary>
    public double? Headroom => (RequestHeadroom, TokenHeadroom) switch
    {
        ({ } r, { } t) => Math.Min(r, t),
        ({ } r, null) => r,
        (null, { } t) => t,
        _ => null,
    };

    /// <summary>The provider asked to wait (429 with Retry-After) and the wait has not passed yet.</summary>
    public bool IsRateLimited { get; init; }

    /// <summary>When the snapshot was taken (its clock's now).</summary>
    public DateTimeOffset TakenAt { get; init; }

    /// <summary>When the request window's reading was received; null while it is unknown.</summary>
    public DateTimeOffset? RequestsReadAt { get; init; }

    /// <summary>When the token window's reading was received; null while it is unknown.</summary>
    public DateTimeOffset? TokensReadAt { get; init; }

    /// <summary>
    /// The headroom expected now if each window refills evenly from its reading to its reset instant (the reset header is when
    /// the window is full again): a reading of 0 left with its reset 60 s away reads half the window 30 s later. The reported
    /// <see cref="Headroom"/> instead stays at the reading until the reset,
    /// which keeps a router off a provider for up to a minute after one busy moment. Null when neither window is known.
    /// </summary>
    public double? RefilledHeadroom => (Refilled(Requests, RequestsReadAt, RequestHeadroom), Refilled(Tokens, TokensReadAt, TokenHeadroom)) switch
    {
        ({ } r, { } t) => Math.Min(r, t),
        ({ } r, null) => r,
        (null, { } t) => t,
        _ => null,
    };

    /// <summary>Requests expected to be left now under the same even refill; null when the request window is unknown.</summary>
    public double? RefilledRequests =>
        Refilled(Requests, RequestsReadAt, RequestHeadroom) is { } h && Requests.Limit is { } limit ? h * limit : null;

    private double? Refilled(RateLimitWindow window, DateTimeOffset? readAt, double? headroom)
    {
        if (headroom is not { } h || window.ResetsAt is not { } reset || readAt is not { } read || reset <= read || TakenAt >= reset)
            return headroom;
        var elapsed = Math.Clamp((TakenAt - read) / (reset - read), 0, 1);
        return h + (1 - h) * elapsed;
    }
}

/// <summary>
/// A provider's rate-limit headroom and smoothed latency, from every response it sends. Thread-safe: overlapping calls
/// report here at once, and the workflow reads snapshots while they do.
/// </summary>
public sealed class ProviderHealth
{
    private readonly Lock gate = new();
    private readonly TimeProvider time;
    private Observed requests = new(RateLimitWindow.Unknown, DateTimeOffset.MinValue);
    private Observed tokens = new(RateLimitWindow.Unknown, DateTimeOffset.MinValue);
    private double? latency;
    private long latencySamples;
    private long responses;
    private long rateLimited;
    private DateTimeOffset? rateLimitedUntil;

    public ProviderHealth(Provider provider, TimeProvider time, ProviderHealthOptions? options = null)
    {
        Provider = provider;
        this.time = time;
        Options = options ?? new ProviderHealthOptions();
        if (!(Options.LatencySmoothing > 0 && Options.LatencySmoothing <= 1))
            throw new ArgumentOutOfRangeException(nameof(options), $"The latency smoothing must be in (0, 1], not {Options.LatencySmoothing}.");
        if (!(Options.ReadingLifetimeSeconds > 0))
            throw new ArgumentOutOfRangeException(nameof(options), $"The reading lifetime must be positive, not {Options.ReadingLifetimeSeconds}.");
    }

    public Provider Provider { get; }

    public ProviderHealthOptions Options { get; }

    /// <summary>One HTTP answer: its rate-limit headers, a 429's Retry-After, and for an answer that succeeded the seconds to its full body.</summary>
    public void Observe(HttpResponseMessage response, double? secondsToFullAnswer)
    {
        var now = time.GetUtcNow();
        Observe(RateLimitHeaders.Read(response, now), (int)response.StatusCode == 429, secondsToFullAnswer, now);
    }

    public void Observe(RateLimitReading reading, bool rateLimitedAnswer, double? secondsToFullAnswer, DateTimeOffset now)
    {
        lock (gate)
        {
            responses++;
            // A response without a window's headers leaves the last reading, which then ages out by its reset or lifetime.
            if (!reading.Requests.IsUnknown)
                requests = new Observed(reading.Requests, now);
            if (!reading.Tokens.IsUnknown)
                tokens = new Observed(reading.Tokens, now);
            if (rateLimitedAnswer)
            {
                rateLimited++;
                if (reading.RetryAfter is { } wait)
                    rateLimitedUntil = Later(rateLimitedUntil, now + wait);
            }
            if (secondsToFullAnswer is { } s && double.IsFinite(s) && s >= 0)
            {
                latency = latency is { } old ? old + Options.LatencySmoothing * (s - old) : s;
                latencySamples++;
            }
        }
    }

    public ProviderHealthSnapshot Snapshot()
    {
        var now = time.GetUtcNow();
        lock (gate)
        {
            var r = Current(requests, now);
            var t = Current(tokens, now);
            return new ProviderHealthSnapshot(Provider, r, t, r.Headroom(now), t.Headroom(now), latency, latencySamples, responses, rateLimited, rateLimitedUntil)
            {
                IsRateLimited = rateLimitedUntil is { } until && now < until,
                TakenAt = now,
                RequestsReadAt = r.IsUnknown ? null : requests.At,
                TokensReadAt = t.IsUnknown ? null : tokens.At,
            };
        }
    }

    private RateLimitWindow Current(Observed observed, DateTimeOffset now) =>
        observed.Window.ResetsAt is null && now - observed.At > TimeSpan.FromSeconds(Options.ReadingLifetimeSeconds) ? RateLimitWindow.Unknown : observed.Window;

    private static DateTimeOffset Later(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x > b ? x : b;

    private sealed record Observed(RateLimitWindow Window, DateTimeOffset At);
}

/// <summary>One <see cref="ProviderHealth"/> per registered provider, shared by the pipelines that update it and the router that reads it.</summary>
public sealed class ProviderHealthBoard
{
    private readonly Dictionary<Provider, ProviderHealth> health;

    public ProviderHealthBoard(TimeProvider time, ProviderHealthOptions? options = null) =>
        health = RoutingNames.Providers.ToDictionary(p => p, p => new ProviderHealth(p, time, options));

    public ProviderHealth For(Provider provider) => health[provider];

    public IReadOnlyList<ProviderHealthSnapshot> Snapshot() => RoutingNames.Providers.Select(p => health[p].Snapshot()).ToArray();
}
