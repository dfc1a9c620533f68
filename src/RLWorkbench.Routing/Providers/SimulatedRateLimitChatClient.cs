using System.Globalization;
using System.Net;
using Microsoft.Extensions.AI;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Providers;

/// <summary>
/// A simulated provider's rate limits, as a stage in front of the simulated client. Requests and tokens are counted over a
/// sliding minute on a clock that is passed in (a <see cref="VirtualClock"/> in runs and tests, so nobody waits). Over a
/// limit it answers as the providers do: a 429 with Retry-After and the rate-limit headers of the provider's own family;
/// the retries then wait Retry-After (capped as the resilient handler caps it) and, when every retry was refused, the
/// call fails through the same translation as a real 429. Every answer's headers and latency are read into the
/// provider's <see cref="ProviderHealth"/> by the same reader the HTTP stage uses.
/// A request counts from the moment it is admitted; its tokens (input and output, from the usage report) from when it
/// answers, so calls in flight at once can pass the token limit, as they can on the real APIs.
/// </summary>
public sealed class SimulatedRateLimitChatClient(
    IChatClient inner, Provider provider, SimulatedProviderLimits limits, ProviderHealth health, TimeProvider clock, long seed, ResilienceOptions resilience,
    Action<string>? notice = null) : DelegatingChatClient(inner)
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    private readonly Lock gate = new();
    private readonly List<Admitted> window = [];
    private readonly RateLimitDialect dialect = RateLimitHeaders.DialectOf(provider);

    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages as IList<ChatMessage> ?? messages.ToList();
        var waited = TimeSpan.Zero;
        for (var attempt = 0; ; attempt++)
        {
            var now = clock.GetUtcNow();
            var admitted = TryAdmit(now, out var retryAfter);
            if (admitted is null)
            {
                using var refused = Answer(HttpStatusCode.TooManyRequests, now, retryAfter);
                health.Observe(RateLimitHeaders.Read(refused, now), true, null, now);
                if (attempt >= resilience.MaxRetries)
                {
                    throw ProviderErrorChatClient.Translate(
                        new HttpRequestException("The simulated provider answered HTTP 429.", null, HttpStatusCode.TooManyRequests), provider, ProviderRegistry.Of(provider).KeyVariable);
                }
                var wait = ResilientHttpHandler.RetryAfter(refused, clock, TimeSpan.FromSeconds(resilience.MaxRetryAfterSeconds)) ?? retryAfter;
                notice?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"{provider.Name()}: HTTP 429, retry {attempt + 1} of {resilience.MaxRetries} in {wait.TotalSeconds:0.0} s"));
                await Task.Delay(wait, clock, cancellationToken);
                waited += wait;
                continue;
            }
            var response = await base.GetResponseAsync(list, options, cancellationToken);
            var tokens = (response.Usage?.InputTokenCount ?? 0) + (response.Usage?.OutputTokenCount ?? 0);
            double? latency = response.AdditionalProperties?.TryGetValue(CallRecord.ReportedLatencyKey, out var reported) == true && reported is double d ? d : null;
            if (limits.LatencySeconds is { } distribution)
            {
                latency = distribution.Draw(new SeededRandomSource(CallSeed(CallContext.From(options), attempt)));
                (response.AdditionalProperties ??= [])[CallRecord.ReportedLatencyKey] = latency.Value;
            }
            // The caller waited out every 429 before this answer, as a real call's accounting (above the retries) measures it;
            // the provider's health keeps the one attempt's time, as the HTTP stage below the retries does.
            if (waited > TimeSpan.Zero && latency is { } attemptSeconds)
                response.AdditionalProperties![CallRecord.ReportedLatencyKey] = attemptSeconds + waited.TotalSeconds;
            lock (gate)
                admitted.Tokens = tokens;
            var answeredAt = clock.GetUtcNow();
            using var answered = Answer(HttpStatusCode.OK, answeredAt, null);
            health.Observe(RateLimitHeaders.Read(answered, answeredAt), false, latency, answeredAt);
            return response;
        }
    }

    /// <summary>The requests and tokens counted in the minute before <paramref name="now"/>.</summary>
    public (int Requests, long Tokens) Usage(DateTimeOffset now)
    {
        lock (gate)
        {
            Prune(now);
            return (window.Count, window.Sum(a => a.Tokens));
        }
    }

    private Admitted? TryAdmit(DateTimeOffset now, out TimeSpan retryAfter)
    {
        lock (gate)
        {
            Prune(now);
            var free = now;
            if (limits.RequestsPerMinute is { } rpm && window.Count >= rpm)
                free = Later(free, window[window.Count - rpm].At + Minute);
            if (limits.TokensPerMinute is { } tpm)
            {
                var used = window.Sum(a => a.Tokens);
                for (var i = 0; i < window.Count && used >= tpm; i++)
                {
                    used -= window[i].Tokens;
                    free = Later(free, window[i].At + Minute);
                }
            }
            if (free > now)
            {
                // Retry-After is whole seconds on the wire; rounding up means the retry finds the room it was promised.
                retryAfter = TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling((free - now).TotalSeconds)));
                return null;
            }
            retryAfter = TimeSpan.Zero;
            var admitted = new Admitted(now);
            window.Add(admitted);
            return admitted;
        }
    }

    /// <summary>The headers the provider would send at <paramref name="now"/>: each limited window's limit, remaining and reset.</summary>
    private HttpResponseMessage Answer(HttpStatusCode status, DateTimeOffset now, TimeSpan? retryAfter)
    {
        var response = new HttpResponseMessage(status);
        lock (gate)
        {
            Prune(now);
            // The window is back to its initial state when the newest counted request leaves it.
            var reset = window.Count == 0 ? now : window[^1].At + Minute;
            if (limits.RequestsPerMinute is { } rpm)
                AddWindow(response, "requests", rpm, Math.Max(0, rpm - window.Count), reset, now);
            if (limits.TokensPerMinute is { } tpm)
                AddWindow(response, "tokens", tpm, Math.Max(0, tpm - window.Sum(a => a.Tokens)), reset, now);
        }
        if (retryAfter is { } wait)
            response.Headers.TryAddWithoutValidation("retry-after", ((long)wait.TotalSeconds).ToString(CultureInfo.InvariantCulture));
        return response;
    }

    private void AddWindow(HttpResponseMessage response, string name, long limit, long remaining, DateTimeOffset reset, DateTimeOffset now)
    {
        response.Headers.TryAddWithoutValidation(RateLimitHeaders.LimitHeader(dialect, name), limit.ToString(CultureInfo.InvariantCulture));
        response.Headers.TryAddWithoutValidation(RateLimitHeaders.RemainingHeader(dialect, name), remaining.ToString(CultureInfo.InvariantCulture));
        // Anthropic's instants have whole seconds; rounding up never announces room before there is some.
        var resetText = dialect == RateLimitDialect.OpenAI
            ? RateLimitHeaders.FormatGoDuration(reset - now)
            : RateLimitHeaders.FormatRfc3339(new DateTimeOffset((reset.UtcTicks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero));
        response.Headers.TryAddWithoutValidation(RateLimitHeaders.ResetHeader(dialect, name), resetText);
    }

    private void Prune(DateTimeOffset now)
    {
        var gone = 0;
        while (gone < window.Count && window[gone].At + Minute <= now)
            gone++;
        window.RemoveRange(0, gone);
    }

    private long CallSeed(CallContext? context, int attempt) =>
        unchecked(seed * 1_000_003 + (context?.Iteration ?? 0) * 7_919 + provider.Id * 131 + (int)(context?.Purpose ?? 0) * 17 + attempt * 3 + 5);

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private sealed class Admitted(DateTimeOffset at)
    {
        public DateTimeOffset At { get; } = at;

        public long Tokens { get; set; }
    }
}
