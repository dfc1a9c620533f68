using Microsoft.Extensions.AI;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Routing.Tests;

public class ProviderTests
{
    private const string OpenAIKey = "sk-test-OPENAI-3f9a1c";
    private const string AnthropicKey = "sk-ant-test-ANTHROPIC-77e2b0";

    private static readonly ResilienceOptions Fast = new()
    {
        MaxRetries = 3,
        BaseDelaySeconds = 1,
        AttemptTimeoutSeconds = 5,
        BreakerMinimumThroughput = 100,
    };

    private sealed class Pipeline(IChatClient client, CallLedger ledger, FastForwardTime time, List<string> notices, ResilientHttpHandler handler) : IDisposable
    {
        public IChatClient Client { get; } = client;

        public CallLedger Ledger { get; } = ledger;

        public FastForwardTime Time { get; } = time;

        public List<string> Notices { get; } = notices;

        public void Dispose() => handler.Dispose();
    }

    private static Pipeline Build(Provider provider, LoopbackServer server, ResilienceOptions? resilience = null, string? model = null)
    {
        var time = new FastForwardTime();
        var notices = new List<string>();
        var settings = new ProviderSettings { Model = model ?? (provider == Provider.OpenAI ? "gpt-4o-mini" : "claude-3-5-haiku-latest") };
        var env = new Dictionary<string, string?>
        {
            ["OPENAI_API_KEY"] = OpenAIKey,
            ["ANTHROPIC_API_KEY"] = AnthropicKey,
            ["OPENAI_BASE_URL"] = server.BaseUrl + "/v1",
            ["ANTHROPIC_BASE_URL"] = server.BaseUrl,
        };
        var credentials = ProviderCredentials.FromEnvironment([provider], v => env.GetValueOrDefault(v));
        var handler = new ResilientHttpHandler(provider.Name(), resilience ?? Fast, time, new SeededRandomSource(3), m => { lock (notices) notices.Add(m); });
        var ledger = new CallLedger();
        var client = new UsageAccountingChatClient(ProviderClients.Create(provider, settings, credentials, handler), provider, settings.Model, PriceTable.Default, ledger, time);
        return new Pipeline(client, ledger, time, notices, handler);
    }

    private static Task<ChatResponse> Ask(Pipeline p, string model) =>
        p.Client.GetResponseAsync([new ChatMessage(ChatRole.System, "You are a coder."), new ChatMessage(ChatRole.User, "Write a cache.")],
            new CallContext(4, CallPurpose.Agent, Provider.OpenAI, AgentRole.Coder, TaskType.Coding, "c1").Attach(new ChatOptions { ModelId = model, Temperature = 0.7f, MaxOutputTokens = 768 }));

    [Fact]
    public async Task OpenAI_answer_gives_text_tokens_and_cost_from_the_usage_report()
    {
        using var server = new LoopbackServer(_ => LoopbackServer.OpenAIAnswer("def cache(): ...", 120, 80));
        using var p = Build(Provider.OpenAI, server);
        var response = await Ask(p, "gpt-4o-mini");
        Assert.Equal("def cache(): ...", response.Text);
        var call = CallRecord.Of(response);
        Assert.Equal((120L, 80L, true), (call.InputTokens, call.OutputTokens, call.UsageReported));
        Assert.Equal((120 * 0.15 + 80 * 0.60) / 1e6, call.CostUsd, 15);
        Assert.Equal(("openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", 5, "agent"), (call.Provider, call.Model, call.ResponseModel, call.Iteration, call.Purpose));
        var request = Assert.Single(server.Requests);
        Assert.Equal("/v1/chat/completions", request.Path);
        Assert.Equal("Bearer " + OpenAIKey, request.Headers["authorization"]);
        Assert.Contains("\"model\":\"gpt-4o-mini\"", request.Body);
        Assert.Contains("\"temperature\":0.7", request.Body);
        Assert.Contains("Write a cache.", request.Body);
        Assert.DoesNotContain("rlw.", request.Body);
        Assert.Single(p.Ledger.Calls);
    }

    [Fact]
    public async Task Anthropic_answer_gives_text_tokens_and_cost_and_sends_the_key_and_version_headers()
    {
        using var server = new LoopbackServer(_ => LoopbackServer.AnthropicAnswer("class LruCache: ...", 200, 300));
        using var p = Build(Provider.Anthropic, server);
        var response = await Ask(p, "claude-3-5-haiku-latest");
        Assert.Equal("class LruCache: ...", response.Text);
        var call = CallRecord.Of(response);
        Assert.Equal((200L, 300L), (call.InputTokens, call.OutputTokens));
        Assert.Equal((200 * 0.80 + 300 * 4.00) / 1e6, call.CostUsd, 15);
        var request = Assert.Single(server.Requests);
        Assert.Equal("/v1/messages", request.Path);
        // Anthropic SDK 13.x documents ClientOptions.ApiKey as sent in "Authorization: Bearer", not x-api-key.
        Assert.Equal("Bearer " + AnthropicKey, request.Headers["authorization"]);
        Assert.False(request.Headers.ContainsKey("x-api-key"));
        Assert.True(request.Headers.ContainsKey("anthropic-version"));
        Assert.Contains("\"max_tokens\":768", request.Body);
        Assert.Contains("You are a coder.", request.Body);
    }

    [Fact]
    public async Task Status_429_with_Retry_After_waits_exactly_that_long_then_succeeds()
    {
        using var server = new LoopbackServer(_ => LoopbackServer.OpenAIAnswer("ok", 10, 5));
        server.Then(LoopbackServer.OpenAIError(429, "slow down", new Dictionary<string, string> { ["Retry-After"] = "7" }));
        using var p = Build(Provider.OpenAI, server);
        var response = await Ask(p, "gpt-4o-mini");
        Assert.Equal("ok", response.Text);
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal([TimeSpan.FromSeconds(7)], p.Time.Waits);
        Assert.Contains("openai: HTTP 429, retry 1 of 3 in 7.0 s", p.Notices);
        Assert.Single(p.Ledger.Calls);
    }

    [Fact]
    public async Task A_429_asking_to_wait_forever_waits_the_cap_and_the_call_goes_on()
    {
        using var server = new LoopbackServer(_ => LoopbackServer.OpenAIAnswer("ok", 10, 5));
        server.Then(LoopbackServer.OpenAIError(429, "slow down", new Dictionary<string, string> { ["retry-after-ms"] = "Infinity" }));
        using var p = Build(Provider.OpenAI, server);
        Assert.Equal("ok", (await Ask(p, "gpt-4o-mini")).Text);
        Assert.Equal([TimeSpan.FromSeconds(60)], p.Time.Waits);
    }

    [Fact]
    public async Task Anthropic_429_with_retry_after_is_honoured_too()
    {
        using var server = new LoopbackServer(_ => LoopbackServer.AnthropicAnswer("ok", 10, 5));
        server.Then(LoopbackServer.AnthropicError(429, "rate_limit_error", "slow down", new Dictionary<string, string> { ["retry-after"] = "3" }));
        using var p = Build(Provider.Anthropic, server);
        Assert.Equal("ok", (await Ask(p, "claude-3-5-haiku-latest")).Text);
        Assert.Equal([TimeSpan.FromSeconds(3)], p.Time.Waits);
    }

    [Fact]
    public async Task Status_500_then_success_retries_with_a_jittered_backoff()
    {
        using var server = new LoopbackServer(_ => LoopbackServer.OpenAIAnswer("ok", 10, 5));
        server.Then(LoopbackServer.OpenAIError(500, "boom")).Then(LoopbackServer.OpenAIError(503, "busy"));
        using var p = Build(Provider.OpenAI, server);
        Assert.Equal("ok", (await Ask(p, "gpt-4o-mini")).Text);
        Assert.Equal(3, server.Requests.Count);
        Assert.Equal(2, p.Time.Waits.Count);
        Assert.All(p.Time.Waits, w => Assert.InRange(w.TotalSeconds, 0.01, 30));
        // Jitter: the two waits are not the plain 1 s and 2 s of an unjittered backoff.
        Assert.NotEqual([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)], p.Time.Waits);
    }

    [Fact]
    public async Task A_provider_that_stays_down_fails_after_every_retry_with_a_clear_message()
    {
        using var server = new LoopbackServer(_ => LoopbackServer.AnthropicError(503, "overloaded_error", "Overloaded"));
        using var p = Build(Provider.Anthropic, server);
        var e = await Assert.ThrowsAsync<ProviderCallException>(() => Ask(p, "claude-3-5-haiku-latest"));
        Assert.Equal(ProviderFailure.ServerError, e.Failure);
        Assert.Equal("anthropic kept failing with HTTP 503 after every retry.", e.Message);
        Assert.Equal(4, server.Requests.Count);
        Assert.Empty(p.Ledger.Calls);
    }

    [Fact]
    public async Task Status_401_is_not_retried_and_names_the_variable_but_never_the_key()
    {
        using var server = new LoopbackServer(_ => LoopbackServer.OpenAIError(401, $"Incorrect API key provided: {OpenAIKey}"));
        using var p = Build(Provider.OpenAI, server);
        var e = await Assert.ThrowsAsync<ProviderCallException>(() => Ask(p, "gpt-4o-mini"));
        Assert.Equal(ProviderFailure.Unauthorized, e.Failure);
        Assert.Equal("openai rejected the credentials (HTTP 401); check OPENAI_API_KEY.", e.Message);
        Assert.Single(server.Requests);
        Assert.Empty(p.Time.Waits);
    }

    [Theory]
    [InlineData("openai", "{\"id\": \"chatcmpl\", \"choices\": [")]
    [InlineData("openai", "<html>bad gateway page</html>")]
    [InlineData("anthropic", "{\"id\": \"msg\", \"content\": 42}")]
    [InlineData("anthropic", "not json at all")]
    public async Task Malformed_bodies_fail_once_with_a_clear_message(string providerName, string body)
    {
        var provider = RoutingNames.ParseProvider(providerName);
        using var server = new LoopbackServer(_ => new LoopbackResponse(200, body));
        using var p = Build(provider, server);
        var e = await Assert.ThrowsAsync<ProviderCallException>(() => Ask(p, provider == Provider.OpenAI ? "gpt-4o-mini" : "claude-3-5-haiku-latest"));
        Assert.Equal(ProviderFailure.MalformedResponse, e.Failure);
        Assert.StartsWith(providerName + " ", e.Message);
        Assert.Single(server.Requests);
        // The provider received the call, so it is on the record, without usage.
        var call = Assert.Single(p.Ledger.Calls);
        Assert.Equal(("malformed-response", false, 0.0), (call.Failure, call.UsageReported, call.CostUsd));
        Assert.Same(call, e.Call);
    }

    [Fact]
    public async Task An_attempt_that_times_out_is_retried_then_reported_as_a_timeout()
    {
        // 1 s rather than less: on a loaded machine (the whole suite on 2 cores) the retry's request must still reach the
        // server before its attempt ends; at 0.5 s it sometimes did not, and the server counted one request.
        using var server = new LoopbackServer(_ => LoopbackServer.OpenAIAnswer("late", 1, 1) with { Delay = TimeSpan.FromSeconds(5) });
        using var p = Build(Provider.OpenAI, server, Fast with { AttemptTimeoutSeconds = 1, MaxRetries = 1 });
        var e = await Assert.ThrowsAsync<ProviderCallException>(() => Ask(p, "gpt-4o-mini"));
        Assert.Equal(ProviderFailure.Timeout, e.Failure);
        Assert.Equal("openai did not answer in time, on every attempt.", e.Message);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task The_circuit_breaker_opens_after_repeated_failures_and_refuses_calls()
    {
        using var server = new LoopbackServer(_ => LoopbackServer.OpenAIError(500, "down"));
        using var p = Build(Provider.OpenAI, server, Fast with { MaxRetries = 10, BreakerMinimumThroughput = 3, BreakerFailureRatio = 0.5 });
        var e = await Assert.ThrowsAsync<ProviderCallException>(() => Ask(p, "gpt-4o-mini"));
        Assert.Equal(ProviderFailure.CircuitOpen, e.Failure);
        Assert.Equal(3, server.Requests.Count);
        Assert.Contains("openai: circuit breaker opened after repeated failures", p.Notices);
        await Assert.ThrowsAsync<ProviderCallException>(() => Ask(p, "gpt-4o-mini"));
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public void Missing_keys_are_named_together_before_any_call()
    {
        var e = Assert.Throws<RoutingInputException>(() => ProviderCredentials.FromEnvironment(RoutingNames.Providers, _ => null));
        Assert.Equal("Real providers need API keys in the environment; missing: OPENAI_API_KEY, ANTHROPIC_API_KEY.", e.Message);
        e = Assert.Throws<RoutingInputException>(() => ProviderCredentials.FromEnvironment(RoutingNames.Providers, v => v == "OPENAI_API_KEY" ? "k" : null));
        Assert.Equal("Real providers need API keys in the environment; missing: ANTHROPIC_API_KEY.", e.Message);
        // A local OpenAI-compatible server needs a base URL but no key.
        var local = ProviderCredentials.FromEnvironment([Provider.OpenAI], v => v == "OPENAI_BASE_URL" ? "http://localhost:11434/v1" : null);
        Assert.Equal("http://localhost:11434/v1", local.BaseUrls[Provider.OpenAI]);
    }

    [Fact]
    public void Retry_after_reads_milliseconds_seconds_and_dates_and_is_capped()
    {
        var time = new FastForwardTime();
        var cap = TimeSpan.FromSeconds(60);
        var r = new HttpResponseMessage(System.Net.HttpStatusCode.TooManyRequests);
        Assert.Null(ResilientHttpHandler.RetryAfter(r, time, cap));
        r.Headers.TryAddWithoutValidation("Retry-After", "12");
        Assert.Equal(TimeSpan.FromSeconds(12), ResilientHttpHandler.RetryAfter(r, time, cap));
        r.Headers.TryAddWithoutValidation("retry-after-ms", "250");
        Assert.Equal(TimeSpan.FromMilliseconds(250), ResilientHttpHandler.RetryAfter(r, time, cap));
        var dated = new HttpResponseMessage(System.Net.HttpStatusCode.ServiceUnavailable);
        dated.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(time.GetUtcNow().AddSeconds(30));
        Assert.Equal(TimeSpan.FromSeconds(30), ResilientHttpHandler.RetryAfter(dated, time, cap));
        var huge = new HttpResponseMessage(System.Net.HttpStatusCode.TooManyRequests);
        huge.Headers.TryAddWithoutValidation("Retry-After", "3600");
        Assert.Equal(cap, ResilientHttpHandler.RetryAfter(huge, time, cap));
    }

    [Theory]
    [InlineData("Infinity")]
    [InlineData("1e20")]
    [InlineData("9223372036854775807")]
    public void Retry_after_ms_beyond_what_a_time_span_holds_is_capped_not_an_overflow(string header)
    {
        var cap = TimeSpan.FromSeconds(60);
        var r = new HttpResponseMessage(System.Net.HttpStatusCode.TooManyRequests);
        r.Headers.TryAddWithoutValidation("retry-after-ms", header);
        Assert.Equal(cap, ResilientHttpHandler.RetryAfter(r, new FastForwardTime(), cap));
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("-5")]
    public void Retry_after_ms_that_is_not_a_wait_falls_back_to_the_backoff(string header)
    {
        var r = new HttpResponseMessage(System.Net.HttpStatusCode.TooManyRequests);
        r.Headers.TryAddWithoutValidation("retry-after-ms", header);
        Assert.Null(ResilientHttpHandler.RetryAfter(r, new FastForwardTime(), TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task Anthropic_500_then_success_and_401_behave_like_openai()
    {
        using var server = new LoopbackServer(_ => LoopbackServer.AnthropicAnswer("ok", 10, 5));
        server.Then(LoopbackServer.AnthropicError(500, "api_error", "boom"));
        using var p = Build(Provider.Anthropic, server);
        Assert.Equal("ok", (await Ask(p, "claude-3-5-haiku-latest")).Text);
        Assert.Equal(2, server.Requests.Count);
        Assert.Single(p.Time.Waits);

        using var rejecting = new LoopbackServer(_ => LoopbackServer.AnthropicError(401, "authentication_error", $"invalid x-api-key {AnthropicKey}"));
        using var q = Build(Provider.Anthropic, rejecting);
        var e = await Assert.ThrowsAsync<ProviderCallException>(() => Ask(q, "claude-3-5-haiku-latest"));
        Assert.Equal("anthropic rejected the credentials (HTTP 401); check ANTHROPIC_API_KEY.", e.Message);
        Assert.Single(rejecting.Requests);
    }

    [Fact]
    public async Task The_per_provider_concurrency_limit_queues_extra_requests()
    {
        // The server holds every request until the test lets go, so overlap does not depend on timing:
        // with a limit of 2, exactly 2 of the 6 requests reach it and the rest wait in the client.
        var inFlight = 0;
        var peak = 0;
        using var release = new ManualResetEventSlim(false);
        using var server = new LoopbackServer(_ =>
        {
            var now = Interlocked.Increment(ref inFlight);
            lock (Fast)
                peak = Math.Max(peak, now);
            release.Wait(TimeSpan.FromSeconds(30));
            Interlocked.Decrement(ref inFlight);
            return LoopbackServer.OpenAIAnswer("ok", 1, 1);
        });
        using var p = Build(Provider.OpenAI, server, Fast with { MaxConcurrentRequests = 2, AttemptTimeoutSeconds = 60 });
        var calls = Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Ask(p, "gpt-4o-mini")));
        for (var waited = 0; Volatile.Read(ref inFlight) < 2 && waited < 300; waited++)
            await Task.Delay(100);
        // Give a third request time to arrive if the limit let it through.
        await Task.Delay(300);
        Assert.Equal(2, Volatile.Read(ref inFlight));
        release.Set();
        await calls;
        Assert.Equal(6, server.Requests.Count);
        Assert.Equal(2, peak);
    }
}
