using System.ClientModel;
using System.ClientModel.Primitives;
using Anthropic;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Routing.Chat;

/// <summary>
/// Keys come from the environment only, from each registered provider's variables (OPENAI_API_KEY, ANTHROPIC_API_KEY; base
/// URLs from OPENAI_BASE_URL, ANTHROPIC_BASE_URL). The values are never printed, logged or saved; only the variable names appear in messages.
/// </summary>
public sealed class ProviderCredentials
{
    private readonly Dictionary<Provider, string> keys;

    private ProviderCredentials(Dictionary<Provider, string> keys, Dictionary<Provider, string> baseUrls)
    {
        this.keys = keys;
        BaseUrls = baseUrls;
    }

    public static string KeyVariable(Provider p) => ProviderRegistry.Of(p).KeyVariable;

    public static string BaseUrlVariable(Provider p) => ProviderRegistry.Of(p).BaseUrlVariable;

    public IReadOnlyDictionary<Provider, string> BaseUrls { get; }

    /// <summary>Reads the variables for the providers a run needs; names every missing one in one sentence before any call is made.</summary>
    public static ProviderCredentials FromEnvironment(IEnumerable<Provider> needed, Func<string, string?> getVariable)
    {
        var keys = new Dictionary<Provider, string>();
        var urls = new Dictionary<Provider, string>();
        var missing = new List<string>();
        foreach (var p in needed.Distinct().Order())
        {
            var url = getVariable(BaseUrlVariable(p));
            if (!string.IsNullOrWhiteSpace(url))
            {
                if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
                    throw new RoutingInputException($"{BaseUrlVariable(p)} is not an http(s) URL.");
                urls[p] = url.Trim();
            }
            var key = getVariable(KeyVariable(p));
            if (!string.IsNullOrWhiteSpace(key))
                keys[p] = key.Trim();
            else if (ProviderRegistry.Of(p).KeyOptionalWithBaseUrl && urls.ContainsKey(p))
                keys[p] = "no-key"; // local OpenAI-compatible servers usually ignore the key, but the SDK needs one
            else
                missing.Add(KeyVariable(p));
        }
        if (missing.Count > 0)
            throw new RoutingInputException($"Real providers need API keys in the environment; missing: {string.Join(", ", missing)}.");
        return new ProviderCredentials(keys, urls);
    }

    internal string Key(Provider p) => keys[p];

    /// <summary>Every secret value, so a test (or a paranoid caller) can check none of them was written anywhere.</summary>
    public IEnumerable<string> SecretsForScanning() => keys.Values.Where(k => k != "no-key");
}

/// <summary>Builds the real provider clients: official SDKs behind IChatClient, each over the resilient HTTP handler.</summary>
public static class ProviderClients
{
    /// <summary>The SDKs' own timeouts are only a backstop; the resilient handler times each attempt.</summary>
    private static readonly TimeSpan SdkTimeout = TimeSpan.FromMinutes(30);

    public static IChatClient Create(Provider provider, ProviderSettings settings, ProviderCredentials credentials, HttpMessageHandler handler)
    {
        var baseUrl = settings.BaseUrl ?? (credentials.BaseUrls.TryGetValue(provider, out var u) ? u : null);
        var http = new HttpClient(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        var client = ProviderRegistry.Of(provider).CreateClient(settings, credentials.Key(provider), baseUrl, http);
        return new ProviderErrorChatClient(client, provider, ProviderCredentials.KeyVariable(provider));
    }

    internal static IChatClient CreateOpenAI(ProviderSettings settings, string key, string? baseUrl, HttpClient http)
    {
        var options = new OpenAIClientOptions
        {
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = SdkTimeout,
        };
        if (baseUrl is not null)
            options.Endpoint = new Uri(baseUrl);
        return new ChatClient(settings.Model, new ApiKeyCredential(key), options).AsIChatClient();
    }

    internal static IChatClient CreateAnthropic(ProviderSettings settings, string key, string? baseUrl, HttpClient http)
    {
        var options = new Anthropic.Core.ClientOptions { ApiKey = key, HttpClient = http, MaxRetries = 0, Timeout = SdkTimeout };
        if (baseUrl is not null)
            options = options with { BaseUrl = baseUrl };
        return new AnthropicClient(options).AsIChatClient(settings.Model, settings.MaxOutputTokens);
    }
}
