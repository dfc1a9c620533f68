using System.Globalization;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Providers;

/// <summary>One provider's health as a person reads it in `route`'s report: headroom per window, smoothed latency, 429s.</summary>
public static class ProviderHealthReport
{
    public static string Line(ProviderHealthSnapshot s)
    {
        var headroom = s.IsRateLimited
            ? "headroom 0% (waiting out a 429)"
            : s.Headroom is { } h ? string.Create(CultureInfo.InvariantCulture, $"headroom {h * 100:0}%") : "headroom unknown";
        var windows = new[] { Window("requests", s.Requests, s.RequestHeadroom), Window("tokens", s.Tokens, s.TokenHeadroom) }.OfType<string>().ToArray();
        var latency = s.LatencySeconds is { } l
            ? string.Create(CultureInfo.InvariantCulture, $"latency {l:0.00} s (smoothed over {s.LatencySamples} answers)")
            : "latency unknown (no answer timed yet)";
        var refused = s.RateLimitedResponses == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $", {s.RateLimitedResponses} of {s.Responses} answers were 429");
        return $"{s.Provider.Name()}: {headroom}{(windows.Length > 0 ? $" ({string.Join(", ", windows)})" : s.Headroom is null && !s.IsRateLimited ? " (no rate-limit headers read)" : "")}, {latency}{refused}";
    }

    private static string? Window(string name, RateLimitWindow window, double? headroom) =>
        window.Remaining is { } left && window.Limit is { } limit && headroom is not null
            ? string.Create(CultureInfo.InvariantCulture, $"{name} {left:N0} of {limit:N0} left")
            : null;
}
