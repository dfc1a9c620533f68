using Microsoft.Extensions.AI;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Providers;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Routing.Chat;

/// <summary>
/// The one chat pipeline of a provider, outermost first: usage accounting -> [recording] -> source, where the source is the
/// simulated client, a cassette replay, or the real SDK client over the resilient HTTP handler. The qlearn workflow and the
/// comparison both build theirs here (the comparison adds its budget stage outside), so a call is measured the same way
/// whichever command made it.
/// </summary>
public static class ChatPipeline
{
    public static IChatClient Around(IChatClient source, Provider provider, string model, PriceTable prices, CallLedger ledger, CassetteWriter? recorder, TimeProvider time)
    {
        if (recorder is not null)
            source = new CassetteRecordingChatClient(source, provider, model, recorder, time);
        return new UsageAccountingChatClient(source, provider, model, prices, ledger, time);
    }

    /// <summary>
    /// The real provider's source; the handler it creates is added to <paramref name="owned"/>, which the caller disposes.
    /// With <paramref name="health"/>, every HTTP attempt's rate-limit headers and latency update it.
    /// </summary>
    public static IChatClient RealSource(
        Provider provider, ProviderSettings settings, ProviderCredentials credentials, ResilienceOptions resilience, TimeProvider time, IRandomSource jitter,
        Action<string> notice, ICollection<IDisposable> owned, ProviderHealth? health = null)
    {
        HttpMessageHandler? wire = health is null ? null : new ProviderHealthHandler(health, time, new SocketsHttpHandler());
        var handler = new ResilientHttpHandler(provider.Name(), resilience, time, jitter, notice, wire);
        owned.Add(handler);
        return ProviderClients.Create(provider, settings, credentials, handler);
    }
}
