using Microsoft.Extensions.AI;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Providers;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Routing.Core;

/// <summary>Builds a provider's SDK client behind IChatClient over the given HTTP client (the resilient handler's).</summary>
public delegate IChatClient ProviderClientFactory(ProviderSettings settings, string key, string? baseUrl, HttpClient http);

/// <summary>
/// One chat provider as the workbench knows it: its name in files and on the command line, the environment variables of its
/// key and base URL, its default model (its prices are the price table's entries for its models) and how its SDK client is
/// built. <paramref name="KeyOptionalWithBaseUrl"/> is for OpenAI-compatible local servers, which usually ignore the key.
/// </summary>
public sealed record ProviderEntry(
    string Name, string KeyVariable, string BaseUrlVariable, string DefaultModel, bool KeyOptionalWithBaseUrl, RateLimitDialect RateLimitHeaders, ProviderClientFactory CreateClient);

/// <summary>
/// The providers a run can route to. Adding one is an entry here (and its id): the action space, the per-provider settings,
/// credentials and client construction all follow from this list. Entries are in id order, because an action's index is
/// agent-major over it.
/// </summary>
public static class ProviderRegistry
{
    /// <summary>
    /// Every provider a run can route to, in the order actions are agent-major over. This list is the one place a provider
    /// is added: its SDK client factory, its key and base-URL variables, its default model and its rate-limit headers.
    /// </summary>
    public static IReadOnlyList<ProviderEntry> Entries { get; } = Distinct(
    [
        new("openai", "OPENAI_API_KEY", "OPENAI_BASE_URL", "gpt-4o-mini", KeyOptionalWithBaseUrl: true, RateLimitDialect.OpenAI, ProviderClients.CreateOpenAI),
        new("anthropic", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "claude-3-5-haiku-latest", KeyOptionalWithBaseUrl: false, RateLimitDialect.Anthropic, ProviderClients.CreateAnthropic),
    ]);

    /// <summary>The registered providers, in registry order.</summary>
    public static IReadOnlyList<Provider> All { get; } = Enumerable.Range(0, Entries.Count).Select(i => new Provider(i)).ToArray();

    public static ProviderEntry Of(Provider provider) =>
        provider.Id >= 0 && provider.Id < Entries.Count ? Entries[provider.Id] : throw new ArgumentOutOfRangeException(nameof(provider));

    /// <summary>A built-in provider by its registered name; a name that is not registered is a programming error here (user input goes through RoutingNames.ParseProvider).</summary>
    internal static Provider Named(string name)
    {
        for (var i = 0; i < Entries.Count; i++)
        {
            if (Entries[i].Name == name)
                return All[i];
        }
        throw new InvalidOperationException($"No provider named '{name}' is registered.");
    }

    private static ProviderEntry[] Distinct(ProviderEntry[] entries)
    {
        var twice = entries.GroupBy(e => e.Name).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
            throw new InvalidOperationException($"Provider '{twice.Key}' is registered twice.");
        return entries;
    }
}
