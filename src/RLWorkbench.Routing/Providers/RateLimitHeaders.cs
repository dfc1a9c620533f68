using System.Globalization;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Providers;

/// <summary>The two header families providers use to report their rate limits.</summary>
public enum RateLimitDialect
{
    /// <summary>x-ratelimit-{limit,remaining,reset}-{requests,tokens}; resets are Go durations such as "6m0s" from now.</summary>
    OpenAI,

    /// <summary>anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}; resets are RFC 3339 instants.</summary>
    Anthropic,
}

/// <summary>
/// One rate-limit window as a provider last reported it. Every part may be unknown (null): a header that is missing, repeated
/// with different values, negative (Azure sends -1) or not a number is unknown, never a guessed zero.
/// </summary>
public sealed record RateLimitWindow(long? Limit, long? Remaining, DateTimeOffset? ResetsAt)
{
    public static RateLimitWindow Unknown { get; } = new(null, null, null);

    public bool IsUnknown => Limit is null && Remaining is null && ResetsAt is null;

    /// <summary>
    /// The share of the window still free at <paramref name="now"/>, in [0, 1]: remaining / limit while the window has not
    /// reset, 1 once its reset instant has passed; null when the limit or the remaining count is unknown, the limit is 0,
    /// or the two contradict each other (more remaining than the limit).
    /// </summary>
    public double? Headroom(DateTimeOffset now)
    {
        if (Limit is not { } limit || Remaining is not { } remaining || limit <= 0 || remaining > limit)
            return null;
        if (ResetsAt is { } reset && now >= reset)
            return 1.0;
        return remaining / (double)limit;
    }
}

/// <summary>What one response said about the provider's limits.</summary>
public sealed record RateLimitReading(RateLimitWindow Requests, RateLimitWindow Tokens, TimeSpan? RetryAfter)
{
    public static RateLimitReading None { get; } = new(RateLimitWindow.Unknown, RateLimitWindow.Unknown, null);
}

/// <summary>
/// Reads the rate-limit headers of a response, whichever family it uses: a provider behind an OpenAI-compatible gateway
/// may send the x-ratelimit-* family whatever the model, so the family is taken from the headers, not from the provider.
/// Anthropic's tokens window is its "most restrictive token limit currently in effect"; its separate input- and
/// output-token windows are not read.
/// </summary>
public static partial class RateLimitHeaders
{
    /// <summary>A Retry-After longer than this is treated as this; reading it must not overflow whatever a server sends.</summary>
    private static readonly TimeSpan RetryAfterReadCap = TimeSpan.FromDays(1);

    /// <summary>A reset further away than this is not a rate-limit window a router can act on, so it reads as unknown.</summary>
    private static readonly TimeSpan LongestReset = TimeSpan.FromDays(2);

    /// <summary>The family a provider's own API answers in (what the simulated stage writes).</summary>
    public static RateLimitDialect DialectOf(Provider provider) => ProviderRegistry.Of(provider).RateLimitHeaders;

    public static string LimitHeader(RateLimitDialect dialect, string window) =>
        dialect == RateLimitDialect.OpenAI ? $"x-ratelimit-limit-{window}" : $"anthropic-ratelimit-{window}-limit";

    public static string RemainingHeader(RateLimitDialect dialect, string window) =>
        dialect == RateLimitDialect.OpenAI ? $"x-ratelimit-remaining-{window}" : $"anthropic-ratelimit-{window}-remaining";

    public static string ResetHeader(RateLimitDialect dialect, string window) =>
        dialect == RateLimitDialect.OpenAI ? $"x-ratelimit-reset-{window}" : $"anthropic-ratelimit-{window}-reset";

    public static RateLimitReading Read(HttpResponseMessage response, DateTimeOffset now)
    {
        var headers = response.Headers;
        return new RateLimitReading(Window(headers, "requests", now), Window(headers, "tokens", now), RetryAfter(response, now));
    }

    private static RateLimitWindow Window(HttpResponseHeaders headers, string window, DateTimeOffset now)
    {
        var anthropic = Window(headers, RateLimitDialect.Anthropic, window, now);
        return anthropic.IsUnknown ? Window(headers, RateLimitDialect.OpenAI, window, now) : anthropic;
    }

    private static RateLimitWindow Window(HttpResponseHeaders headers, RateLimitDialect dialect, string window, DateTimeOffset now)
    {
        var limit = Count(Single(headers, LimitHeader(dialect, window)));
        var remaining = Count(Single(headers, RemainingHeader(dialect, window)));
        var resetText = Single(headers, ResetHeader(dialect, window));
        var reset = dialect == RateLimitDialect.OpenAI
            ? ParseGoDuration(resetText) is { } after ? now + after : null
            : ParseRfc3339(resetText);
        if (reset is { } r && (r - now > LongestReset || now - r > LongestReset))
            reset = null;
        return new RateLimitWindow(limit, remaining, reset);
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response, DateTimeOffset now) =>
        Chat.ResilientHttpHandler.RetryAfter(response, new FixedTime(now), RetryAfterReadCap);

    private static string? Single(HttpResponseHeaders headers, string name)
    {
        if (!headers.TryGetValues(name, out var values))
            return null;
        var distinct = values.Select(v => v.Trim()).Distinct(StringComparer.Ordinal).ToArray();
        return distinct.Length == 1 ? distinct[0] : null;
    }

    /// <summary>A non-negative whole number of digits only; "-1", "1e3", "12.0" and "" are unknown.</summary>
    private static long? Count(string? text) =>
        text is not null && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    [GeneratedRegex(@"^(?:(?<n>\d+(?:\.\d+)?)(?<u>h|ms|m|s|us|µs|ns))+$", RegexOptions.CultureInvariant)]
    private static partial Regex GoDuration();

    /// <summary>Go's time.Duration text ("6m0s", "1.5s", "12ms", "1h2m3.5s"), as OpenAI's reset headers use it; null when it is not one.</summary>
    public static TimeSpan? ParseGoDuration(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return null;
        var match = GoDuration().Match(text);
        if (!match.Success)
            return null;
        var seconds = 0.0;
        var numbers = match.Groups["n"].Captures;
        var units = match.Groups["u"].Captures;
        for (var i = 0; i < numbers.Count; i++)
        {
            var n = double.Parse(numbers[i].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
            seconds += n * units[i].Value switch
            {
                "h" => 3600.0,
                "m" => 60.0,
                "s" => 1.0,
                "ms" => 1e-3,
                "us" or "µs" => 1e-6,
                _ => 1e-9,
            };
        }
        // Compared as a number first: a long run of digits parses, but TimeSpan cannot hold it.
        return seconds <= LongestReset.TotalSeconds ? TimeSpan.FromSeconds(seconds) : null;
    }

    /// <summary>Go's time.Duration text for a non-negative span: "6m0s", "59.5s", "250ms", "1h0m0s".</summary>
    public static string FormatGoDuration(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
            span = TimeSpan.Zero;
        if (span < TimeSpan.FromSeconds(1))
            return string.Create(CultureInfo.InvariantCulture, $"{Math.Round(span.TotalMilliseconds, 3)}ms");
        var hours = (long)span.TotalHours;
        var minutes = span.Minutes;
        var seconds = span.TotalSeconds - hours * 3600 - minutes * 60;
        var s = string.Create(CultureInfo.InvariantCulture, $"{Math.Round(seconds, 3)}s");
        return hours > 0 ? $"{hours}h{minutes}m{s}" : minutes > 0 ? $"{minutes}m{s}" : s;
    }

    private static readonly string[] Rfc3339Formats = ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"];

    /// <summary>An RFC 3339 instant with its offset ("2026-01-01T00:01:00Z"), as Anthropic's reset headers use; null otherwise.</summary>
    public static DateTimeOffset? ParseRfc3339(string? text) =>
        text is not null && text.Length > 0 && (text[^1] is 'Z' or 'z' || text.Length > 6 && text[^6] is '+' or '-')
        && DateTimeOffset.TryParseExact(text.ToUpperInvariant(), Rfc3339Formats, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var at)
            ? at
            : null;

    public static string FormatRfc3339(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Retry-After dates are relative to the instant the response was read, not to whenever the reader runs.</summary>
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
