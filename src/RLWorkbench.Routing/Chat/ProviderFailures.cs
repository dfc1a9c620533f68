using System.ClientModel;
using System.Net;
using System.Text.Json;
using Anthropic.Exceptions;
using Microsoft.Extensions.AI;
using Polly.CircuitBreaker;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Chat;

public enum ProviderFailure
{
    Unauthorized,
    RateLimited,
    ServerError,
    Timeout,
    CircuitOpen,
    MalformedResponse,
    Rejected,
    Unreachable,
}

/// <summary>
/// A provider call that failed after the resilience pipeline gave up. The message is written here, from the status and
/// the failure kind only: provider error bodies can echo part of the key, and they never reach a log or the console.
/// </summary>
public sealed class ProviderCallException(Provider provider, ProviderFailure failure, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public Provider Provider { get; } = provider;

    public ProviderFailure Failure { get; } = failure;

    /// <summary>The accounting stage's record of a call the provider answered unusably; null when no answer came back.</summary>
    public CallRecord? Call { get; init; }
}

/// <summary>A replayed run asked for an exchange the cassette does not hold.</summary>
public sealed class CassetteExhaustedException(string message) : Exception(message);

/// <summary>
/// The stage next to the SDK client: strips the workbench's call context so nothing of ours goes on the wire, and turns
/// each SDK's exceptions into one <see cref="ProviderCallException"/> with a clear sentence.
/// </summary>
public sealed class ProviderErrorChatClient(IChatClient inner, Provider provider, string keyVariable) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var wire = options?.Clone();
        if (wire is not null)
            wire.AdditionalProperties = null;
        try
        {
            var response = await base.GetResponseAsync(messages, wire, cancellationToken);
            if (response.Messages.Count == 0 || response.Text is null)
                throw new ProviderCallException(provider, ProviderFailure.MalformedResponse, $"{provider.Name()} returned an answer with no message.");
            return response;
        }
        catch (Exception e) when (e is not ProviderCallException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            throw Translate(e);
        }
    }

    public ProviderCallException Translate(Exception e) => Translate(e, provider, keyVariable);

    /// <summary>
    /// The one translation of a failed call, shared with the simulated rate-limit stage so a simulated 429 that outlasts
    /// the retries fails with the same kind and sentence as a real one.
    /// </summary>
    public static ProviderCallException Translate(Exception e, Provider provider, string keyVariable)
    {
        var name = provider.Name();
        if (Find<BrokenCircuitException>(e) is not null)
            return new ProviderCallException(provider, ProviderFailure.CircuitOpen, $"{name} is failing repeatedly, so its circuit breaker is open; calls are refused until it recovers.", e);
        var status = StatusOf(e);
        if (status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            return new ProviderCallException(provider, ProviderFailure.Unauthorized, $"{name} rejected the credentials (HTTP {(int)status}); check {keyVariable}.", e);
        if (status == HttpStatusCode.TooManyRequests)
            return new ProviderCallException(provider, ProviderFailure.RateLimited, $"{name} kept answering HTTP 429 (rate limited) after every retry.", e);
        if (status is { } s && (int)s >= 500)
            return new ProviderCallException(provider, ProviderFailure.ServerError, $"{name} kept failing with HTTP {(int)s} after every retry.", e);
        if (status is { } c)
            return new ProviderCallException(provider, ProviderFailure.Rejected, $"{name} rejected the request with HTTP {(int)c}.", e);
        if (Find<TimeoutException>(e) is not null || e is TaskCanceledException)
            return new ProviderCallException(provider, ProviderFailure.Timeout, $"{name} did not answer in time, on every attempt.", e);
        if (Find<JsonException>(e) is not null || Find<AnthropicInvalidDataException>(e) is not null || Find<FormatException>(e) is not null
            || (e is InvalidOperationException or ArgumentException && Find<HttpRequestException>(e) is null))
            return new ProviderCallException(provider, ProviderFailure.MalformedResponse, $"{name} sent an answer that is not valid for its API.", e);
        if (Find<HttpRequestException>(e) is not null)
            return new ProviderCallException(provider, ProviderFailure.Unreachable, $"{name} could not be reached on any attempt.", e);
        return new ProviderCallException(provider, ProviderFailure.MalformedResponse, $"{name} call failed ({e.GetType().Name}).", e);
    }

    private static HttpStatusCode? StatusOf(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            switch (x)
            {
                case ClientResultException { Status: > 0 } c:
                    return (HttpStatusCode)c.Status;
                case AnthropicApiException a:
                    return a.StatusCode;
                case HttpRequestException { StatusCode: { } code }:
                    return code;
            }
        }
        return null;
    }

    private static T? Find<T>(Exception e)
        where T : Exception
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (x is T t)
                return t;
        }
        return null;
    }
}
