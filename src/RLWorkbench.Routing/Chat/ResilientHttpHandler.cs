using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Providers;

namespace RLWorkbench.Routing.Chat;

/// <summary>How hard to try a provider before giving up. One set per provider; defaults suit the public APIs' free tiers.</summary>
public sealed record ResilienceOptions
{
    /// <summary>Retries after the first attempt, on 408, 429, 5xx, timeouts and connection failures.</summary>
    public int MaxRetries { get; init; } = 4;

    /// <summary>First backoff delay; it doubles each retry, with jitter, unless the provider says Retry-After.</summary>
    public double BaseDelaySeconds { get; init; } = 1.0;

    public double MaxDelaySeconds { get; init; } = 30.0;

    /// <summary>A Retry-After longer than this is cut to it, so one header cannot park the run for an hour.</summary>
    public double MaxRetryAfterSeconds { get; init; } = 60.0;

    /// <summary>One HTTP attempt may take this long before it counts as a timeout and is retried.</summary>
    public double AttemptTimeoutSeconds { get; init; } = 60.0;

    /// <summary>The breaker opens when this share of attempts in the sampling window failed...</summary>
    public double BreakerFailureRatio { get; init; } = 0.8;

    /// <summary>...and at least this many attempts were made in it.</summary>
    public int BreakerMinimumThroughput { get; init; } = 8;

    public double BreakerSamplingSeconds { get; init; } = 120.0;

    public double BreakSeconds { get; init; } = 30.0;

    /// <summary>Requests to this provider at once; more wait in a queue.</summary>
    public int MaxConcurrentRequests { get; init; } = 4;

    /// <summary>HTTP requests per minute to this provider (retries included: the provider counts them too).</summary>
    public int RequestsPerMinute { get; init; } = 60;
}

/// <summary>
/// Retries, rate limit, concurrency limit and circuit breaker at the HTTP layer, below both SDKs, because that is where
/// status codes and Retry-After are plain to see whatever SDK is above. The SDKs' own retries are switched off.
/// </summary>
public sealed class ResilientHttpHandler : DelegatingHandler
{
    private readonly ResiliencePipeline<HttpResponseMessage> pipeline;
    private readonly TimeSpan attemptTimeout;
    private readonly TimeProvider time;

    public ResilientHttpHandler(string providerName, ResilienceOptions options, TimeProvider time, IRandomSource jitter, Action<string>? notice = null, HttpMessageHandler? inner = null)
        : base(inner ?? new SocketsHttpHandler())
    {
        this.time = time;
        attemptTimeout = TimeSpan.FromSeconds(options.AttemptTimeoutSeconds);
        var jitterGate = new Lock();
        pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(1, options.MaxRetries),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromSeconds(options.BaseDelaySeconds),
                MaxDelay = TimeSpan.FromSeconds(options.MaxDelaySeconds),
                Randomizer = () =>
                {
                    lock (jitterGate)
                        return jitter.Random();
                },
                ShouldHandle = args => ValueTask.FromResult(options.MaxRetries > 0 && IsTransient(args.Outcome)),
                DelayGenerator = args => ValueTask.FromResult(WaitAskedFor(args.Outcome.Result, time, TimeSpan.FromSeconds(options.MaxRetryAfterSeconds))),
                OnRetry = args =>
                {
                    notice?.Invoke(string.Create(CultureInfo.InvariantCulture,
                        $"{providerName}: {Describe(args.Outcome)}, retry {args.AttemptNumber + 1} of {options.MaxRetries} in {args.RetryDelay.TotalSeconds:0.0} s"));
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                FailureRatio = options.BreakerFailureRatio,
                MinimumThroughput = Math.Max(2, options.BreakerMinimumThroughput),
                SamplingDuration = TimeSpan.FromSeconds(options.BreakerSamplingSeconds),
                BreakDuration = TimeSpan.FromSeconds(options.BreakSeconds),
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
                OnOpened = _ =>
                {
                    notice?.Invoke($"{providerName}: circuit breaker opened after repeated failures");
                    return ValueTask.CompletedTask;
                },
            })
            .AddRateLimiter(new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = Math.Max(1, options.RequestsPerMinute),
                TokensPerPeriod = Math.Max(1, options.RequestsPerMinute),
                ReplenishmentPeriod = TimeSpan.FromMinutes(1),
                QueueLimit = int.MaxValue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                AutoReplenishment = true,
            }))
            .AddConcurrencyLimiter(new ConcurrencyLimiterOptions
            {
                PermitLimit = Math.Max(1, options.MaxConcurrentRequests),
                QueueLimit = int.MaxValue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            })
            .Build();
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // The body is read once so each attempt can send a fresh copy; a sent request message cannot be sent again.
        var body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var contentHeaders = request.Content?.Headers.ToArray() ?? [];
        return await pipeline.ExecuteAsync(async token =>
        {
            var attempt = new HttpRequestMessage(request.Method, request.RequestUri) { Version = request.Version, VersionPolicy = request.VersionPolicy };
            foreach (var h in request.Headers)
                attempt.Headers.TryAddWithoutValidation(h.Key, h.Value);
            if (body is not null)
            {
                attempt.Content = new ByteArrayContent(body);
                foreach (var h in contentHeaders)
                    attempt.Content.Headers.TryAddWithoutValidation(h.Key, h.Value);
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            timeout.CancelAfter(attemptTimeout);
            try
            {
                return await base.SendAsync(attempt, timeout.Token);
            }
            catch (OperationCanceledException) when (!token.IsCancellationRequested)
            {
                throw new TimeoutException($"No answer within {attemptTimeout.TotalSeconds:0.#} s.");
            }
        }, cancellationToken);
    }

    public static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: TimeoutException or HttpRequestException } => true,
        { Result: { } r } => r.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)r.StatusCode >= 500,
        _ => false,
    };

    /// <summary>The wait the provider asked for: retry-after-ms (OpenAI), else Retry-After as seconds or a date; null means use the backoff.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage? response, TimeProvider time, TimeSpan cap)
    {
        if (response is null)
            return null;
        TimeSpan? wait = null;
        if (response.Headers.TryGetValues("retry-after-ms", out var ms) && double.TryParse(ms.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var millis) && millis >= 0)
            // Compared as a number first: "Infinity" or "1e20" parse, but TimeSpan cannot hold them.
            wait = millis >= cap.TotalMilliseconds ? cap : TimeSpan.FromMilliseconds(millis);
        else if (response.Headers.RetryAfter?.Delta is { } delta)
            wait = delta;
        else if (response.Headers.RetryAfter?.Date is { } date)
            wait = date - time.GetUtcNow();
        if (wait is null)
            return null;
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > cap ? cap : wait;
    }

    /// <summary>
    /// The wait before a retry: <see cref="RetryAfter"/> when the provider sent one; for a 429 without it, until the later
    /// reset of the windows its rate-limit headers say are used up (retrying sooner only earns another 429); null means
    /// use the backoff.
    /// </summary>
    public static TimeSpan? WaitAskedFor(HttpResponseMessage? response, TimeProvider time, TimeSpan cap)
    {
        if (RetryAfter(response, time, cap) is { } asked)
            return asked;
        if (response?.StatusCode != HttpStatusCode.TooManyRequests)
            return null;
        var now = time.GetUtcNow();
        var reading = RateLimitHeaders.Read(response, now);
        TimeSpan? wait = null;
        foreach (var window in new[] { reading.Requests, reading.Tokens })
        {
            if (window is { Remaining: 0, ResetsAt: { } reset } && (wait is null || reset - now > wait))
                wait = reset - now;
        }
        if (wait is null)
            return null;
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > cap ? cap : wait;
    }

    private static string Describe(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: TimeoutException } => "timed out",
        { Exception: { } e } => e.GetType().Name,
        { Result: { } r } => $"HTTP {(int)r.StatusCode}",
        _ => "failed",
    };
}
