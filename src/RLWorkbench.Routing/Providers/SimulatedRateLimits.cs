using System.Text.Json;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Core;
using RLWorkbench.Tracking;

namespace RLWorkbench.Routing.Providers;

/// <summary>
/// A simulated provider's time to the full answer: log-normal, because LLM latencies have a long right tail (a few answers
/// take several times the median), given by the two numbers people quote, the median and the 95th percentile.
/// </summary>
public sealed record SimulatedLatency(double MedianSeconds, double P95Seconds)
{
    private const double Z95 = 1.6448536269514722;

    /// <summary>The standard deviation of the latency's logarithm.</summary>
    public double Sigma => Math.Log(P95Seconds / MedianSeconds) / Z95;

    public double MeanSeconds => MedianSeconds * Math.Exp(Sigma * Sigma / 2);

    public double Draw(IRandomSource random)
    {
        // Box-Muller; 1 - u keeps the logarithm finite.
        var u1 = 1.0 - random.Random();
        var u2 = random.Random();
        return MedianSeconds * Math.Exp(Sigma * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }
}

/// <summary>One simulated provider's limits per minute (null: no such limit) and, optionally, its own latency distribution.</summary>
public sealed record SimulatedProviderLimits(int? RequestsPerMinute, long? TokensPerMinute, SimulatedLatency? LatencySeconds);

/// <summary>
/// The simulation profile's optional "rateLimits" section, read on its own so the rest of the profile is untouched:
/// <code>"rateLimits": { "openai": { "requestsPerMinute": 60, "tokensPerMinute": 40000, "latencySeconds": { "median": 1.2, "p95": 3.5 } } }</code>
/// A provider not named, or a profile without the section, is unlimited and keeps the profile's own latency, so a run on
/// it gives exactly the numbers it gave before the section existed.
/// </summary>
public sealed class SimulatedRateLimits
{
    public const string Section = "rateLimits";

    private static readonly string[] Settings = ["requestsPerMinute", "tokensPerMinute", "latencySeconds"];

    private SimulatedRateLimits(IReadOnlyDictionary<Provider, SimulatedProviderLimits> providers) => Providers = providers;

    public static SimulatedRateLimits Unlimited { get; } = new(new Dictionary<Provider, SimulatedProviderLimits>());

    public IReadOnlyDictionary<Provider, SimulatedProviderLimits> Providers { get; }

    public bool IsUnlimited => Providers.Count == 0;

    public SimulatedProviderLimits? For(Provider provider) => Providers.GetValueOrDefault(provider);

    public static SimulatedRateLimits LoadProfile(string path) =>
        File.Exists(path) ? FromProfile(File.ReadAllText(path), path) : throw new RoutingInputException(InputFile.Missing("The simulation profile", path));

    /// <summary>The section of a whole profile file; <paramref name="source"/> names the file in messages.</summary>
    public static SimulatedRateLimits FromProfile(string json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new RoutingInputException($"The simulation profile {source} is not valid JSON ({JsonProblem.Describe(e)}).", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return Unlimited;
            var section = document.RootElement.EnumerateObject().FirstOrDefault(p => string.Equals(p.Name, Section, StringComparison.OrdinalIgnoreCase));
            if (section.Value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
                return Unlimited;
            if (section.Value.ValueKind != JsonValueKind.Object)
                throw new RoutingInputException($"\"{Section}\" in the simulation profile {source} must be an object of providers, for example {{\"openai\": {{\"requestsPerMinute\": 60}}}}.");
            var providers = new Dictionary<Provider, SimulatedProviderLimits>();
            foreach (var entry in section.Value.EnumerateObject())
            {
                var provider = RoutingNames.Providers.Select(p => (Provider?)p).FirstOrDefault(p => string.Equals(p!.Value.Name(), entry.Name.Trim(), StringComparison.OrdinalIgnoreCase))
                    ?? throw new RoutingInputException($"Unknown provider '{entry.Name}' under \"{Section}\" in {source}; the providers are {string.Join(", ", RoutingNames.Providers.Select(p => p.Name()))}.");
                providers[provider] = Limits(entry.Value, provider.Name(), source);
            }
            return new SimulatedRateLimits(providers);
        }
    }

    private static SimulatedProviderLimits Limits(JsonElement element, string provider, string source)
    {
        var where = $"for {provider} under \"{Section}\" in {source}";
        if (element.ValueKind != JsonValueKind.Object)
            throw new RoutingInputException($"The limits {where} must be an object with {string.Join(", ", Settings)}.");
        int? requests = null;
        long? tokens = null;
        SimulatedLatency? latency = null;
        foreach (var setting in element.EnumerateObject())
        {
            if (setting.Value.ValueKind == JsonValueKind.Null)
                continue;
            switch (Settings.FirstOrDefault(s => string.Equals(s, setting.Name, StringComparison.OrdinalIgnoreCase)))
            {
                case "requestsPerMinute":
                    requests = setting.Value.ValueKind == JsonValueKind.Number && setting.Value.TryGetInt32(out var r) && r >= 1
                        ? r
                        : throw new RoutingInputException($"requestsPerMinute {where} must be a whole number of at least 1, not {setting.Value.GetRawText()}.");
                    break;
                case "tokensPerMinute":
                    tokens = setting.Value.ValueKind == JsonValueKind.Number && setting.Value.TryGetInt64(out var t) && t >= 1
                        ? t
                        : throw new RoutingInputException($"tokensPerMinute {where} must be a whole number of at least 1, not {setting.Value.GetRawText()}.");
                    break;
                case "latencySeconds":
                    latency = Latency(setting.Value, where);
                    break;
                default:
                    throw new RoutingInputException($"Unknown setting '{setting.Name}' {where}; the settings are {string.Join(", ", Settings)}.");
            }
        }
        return new SimulatedProviderLimits(requests, tokens, latency);
    }

    private static SimulatedLatency Latency(JsonElement element, string where)
    {
        double? median = null, p95 = null;
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in element.EnumerateObject())
            {
                var value = p.Value.ValueKind == JsonValueKind.Number ? p.Value.GetDouble() : double.NaN;
                if (string.Equals(p.Name, "median", StringComparison.OrdinalIgnoreCase))
                    median = value;
                else if (string.Equals(p.Name, "p95", StringComparison.OrdinalIgnoreCase))
                    p95 = value;
                else
                    median = double.NaN;
            }
        }
        if (median is not { } m || p95 is not { } q || !double.IsFinite(m) || !double.IsFinite(q) || m <= 0 || q < m || q > 3600)
            throw new RoutingInputException($"latencySeconds {where} needs only a median above 0 and a p95 of at least the median and at most 3600, in seconds, for example {{\"median\": 1.2, \"p95\": 3.5}}.");
        return new SimulatedLatency(m, q);
    }
}
