using Microsoft.Extensions.AI;
using RLWorkbench.Routing.Chat;
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
    Provider Id, string Name, string KeyVariable, string BaseUrlVariable, string DefaultModel, bool KeyOptionalWithBaseUrl, ProviderClientFactory CreateClient);

/// <summary>
/// The providers a run can route to. Adding one is an entry here (and its id): the action space, the per-provider settings,
/// credentials and client construction all follow from this list. Entries are in id order, because an action's index is
/// agent-major over it.
/// </summary>
public static class ProviderRegistry
{
    public static IReadOnlyList<ProviderEntry> Entries { get; } = InIdOrder(
    [
        new(Provider.OpenAI, "openai", "OPENAI_API_KEY", "OPENAI_BASE_URL", "gpt-4o-mini", KeyOptionalWithBaseUrl: true, ProviderClients.CreateOpenAI),
        new(Provider.Anthropic, "anthropic", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "claude-3-5-haiku-latest", KeyOptionalWithBaseUrl: false, ProviderClients.CreateAnthropic),
    ]);

    public static ProviderEntry Of(Provider provider) =>
        (int)provider >= 0 && (int)provider < Entries.Count ? Entries[(int)provider] : throw new ArgumentOutOfRangeException(nameof(provider));

    private static ProviderEntry[] InIdOrder(ProviderEntry[] entries)
    {
        for (var i = 0; i < entries.Length; i++)
        {
            if ((int)entries[i].Id != i)
                throw new InvalidOperationException($"Provider entry {entries[i].Name} is at position {i} but has id {(int)entries[i].Id}; entries must be in id order.");
        }
        return entries;
    }
}
