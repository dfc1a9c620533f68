namespace RLWorkbench.Routing.Providers;

/// <summary>
/// The HTTP stage that keeps a provider's <see cref="ProviderHealth"/>. It sits below the resilient handler, so it sees
/// every attempt (a 429 that is retried still says how close the limit is) and times one attempt, not the backoff around
/// it. Time to the full answer: the body of a successful answer is read here before the clock stops; routing calls are
/// never streamed, so the SDK above loses nothing by getting it buffered.
/// </summary>
public sealed class ProviderHealthHandler(ProviderHealth health, TimeProvider time, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var response = await base.SendAsync(request, cancellationToken);
        double? seconds = null;
        if (response.IsSuccessStatusCode)
        {
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            seconds = time.GetElapsedTime(started).TotalSeconds;
        }
        health.Observe(response, seconds);
        return response;
    }
}
