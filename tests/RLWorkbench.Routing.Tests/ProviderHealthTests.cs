using Microsoft.Extensions.AI;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Providers;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Routing.Tests;

public class ProviderHealthTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly ResilienceOptions Fast = new() { MaxRetries = 3, BaseDelaySeconds = 1, AttemptTimeoutSeconds = 5, BreakerMinimumThroughput = 100 };

    private sealed class Pipeline(IChatClient client, ProviderHealth health, FastForwardTime time, List<IDisposable> owned) : IDisposable
    {
        public IChatClient Client { get; } = client;

        public ProviderHealth Health { get; } = health;

        public FastForwardTime Time { get; } = time;

        public void Dispose()
        {
            foreach (var d in owned)
                d.Dispose();
        }
    }

    /// <summary>The production pipeline (ChatPipeline.RealSource with a health stage) against the loopback server.</summary>
    private static Pipeline Build(Provider provider, LoopbackServer server)
    {
        var time = new FastForwardTime();
        var env = new Dictionary<string, string?>
        {
            ["OPENAI_API_KEY"] = "sk-test-openai",
            ["ANTHROPIC_API_KEY"] = "sk-ant-test",
            ["OPENAI_BASE_URL"] = server.BaseUrl + "/v1",
            ["ANTHROPIC_BASE_URL"] = server.BaseUrl,
        };
        var credentials = ProviderCredentials.FromEnvironment([provider], v => env.GetValueOrDefault(v));
        var settings = new ProviderSettings { Model = provider == Provider.OpenAI ? "gpt-4o-mini" : "claude-3-5-haiku-latest" };
        var health = new ProviderHealth(provider, time);
        var owned = new List<IDisposable>();
        var source = ChatPipeline.RealSource(provider, settings, credentials, Fast, time, new SeededRandomSource(3), _ => { }, owned, health);
        var client = ChatPipeline.Around(source, provider, settings.Model, PriceTable.Default, new CallLedger(), null, time);
        return new Pipeline(client, health, time, owned);
    }

    private static Task<ChatResponse> Ask(Pipeline p, Provider provider) =>
        p.Client.GetResponseAsync([new ChatMessage(ChatRole.User, "Write a cache.")],
            new CallContext(0, CallPurpose.Agent, provider, AgentRole.Coder, TaskType.Coding, "c1").Attach(new ChatOptions { MaxOutputTokens = 64 }));

    private static LoopbackResponse With(LoopbackResponse response, params (string Name, string Value)[] headers) =>
        response with { Headers = headers.ToDictionary(h => h.Name, h => h.Value) };

    [Fact]
    public async Task OpenAI_headers_give_both_windows_with_duration_resets_and_the_latency_of_the_answer()
    {
        using var server = new LoopbackServer(_ => With(LoopbackServer.OpenAIAnswer("ok", 10, 5) with { Delay = TimeSpan.FromMilliseconds(200) },
            ("x-ratelimit-limit-requests", "500"), ("x-ratelimit-remaining-requests", "499"), ("x-ratelimit-reset-requests", "120ms"),
            ("x-ratelimit-limit-tokens", "200000"), ("x-ratelimit-remaining-tokens", "150000"), ("x-ratelimit-reset-tokens", "6m0s")));
        using var p = Build(Provider.OpenAI, server);
        Assert.Equal("ok", (await Ask(p, Provider.OpenAI)).Text);
        var s = p.Health.Snapshot();
        Assert.Equal(new RateLimitWindow(500, 499, Start.AddMilliseconds(120)), s.Requests);
        Assert.Equal(new RateLimitWindow(200000, 150000, Start.AddMinutes(6)), s.Tokens);
        Assert.Equal(0.998, s.RequestHeadroom);
        Assert.Equal(0.75, s.TokenHeadroom);
        Assert.Equal(0.75, s.Headroom);
        Assert.Equal((1L, 1L, 0L), (s.LatencySamples, s.Responses, s.RateLimitedResponses));
        // The server waits 200 ms before answering; timers fire up to a few ms early against the client's stopwatch (one run
        // measured 0.1990 s), so the bound says "the answer's wait was measured", not "to the millisecond".
        Assert.InRange(s.LatencySeconds!.Value, 0.15, 30);
        Assert.False(s.IsRateLimited);
    }

    [Fact]
    public async Task Anthropic_headers_give_both_windows_with_RFC_3339_resets()
    {
        using var server = new LoopbackServer(_ => With(LoopbackServer.AnthropicAnswer("ok", 10, 5),
            ("anthropic-ratelimit-requests-limit", "50"), ("anthropic-ratelimit-requests-remaining", "10"), ("anthropic-ratelimit-requests-reset", "2026-01-01T00:00:30Z"),
            ("anthropic-ratelimit-tokens-limit", "40000"), ("anthropic-ratelimit-tokens-remaining", "39000"), ("anthropic-ratelimit-tokens-reset", "2026-01-01T00:00:01.5+00:00"),
            ("anthropic-ratelimit-input-tokens-remaining", "1")));
        using var p = Build(Provider.Anthropic, server);
        Assert.Equal("ok", (await Ask(p, Provider.Anthropic)).Text);
        var s = p.Health.Snapshot();
        Assert.Equal(new RateLimitWindow(50, 10, Start.AddSeconds(30)), s.Requests);
        Assert.Equal(new RateLimitWindow(40000, 39000, Start.AddSeconds(1.5)), s.Tokens);
        Assert.Equal((0.2, 0.975, 0.2), (s.RequestHeadroom, s.TokenHeadroom, s.Headroom));
    }

    [Fact]
    public async Task Without_rate_limit_headers_headroom_is_unknown_and_latency_is_still_measured()
    {
        using var server = new LoopbackServer(_ => LoopbackServer.OpenAIAnswer("ok", 10, 5));
        using var p = Build(Provider.OpenAI, server);
        await Ask(p, Provider.OpenAI);
        var s = p.Health.Snapshot();
        Assert.Equal((RateLimitWindow.Unknown, RateLimitWindow.Unknown), (s.Requests, s.Tokens));
        Assert.Equal(((double?)null, (double?)null, (double?)null), (s.RequestHeadroom, s.TokenHeadroom, s.Headroom));
        Assert.Equal(1L, s.LatencySamples);
        Assert.NotNull(s.LatencySeconds);
    }

    [Theory]
    [InlineData("-1", "-1", "0")] // Azure's "no information" values
    [InlineData("abc", "12.5", "soon")]
    [InlineData("1e3", " ", "6 minutes")]
    [InlineData("99999999999999999999999", "5.0", "-3s")]
    [InlineData("", "", "9999999h")]
    public async Task Garbage_OpenAI_headers_read_as_unknown_and_the_call_still_succeeds(string limit, string remaining, string reset)
    {
        using var server = new LoopbackServer(_ => With(LoopbackServer.OpenAIAnswer("ok", 10, 5),
            ("x-ratelimit-limit-requests", limit), ("x-ratelimit-remaining-requests", remaining), ("x-ratelimit-reset-requests", reset),
            ("x-ratelimit-remaining-tokens", remaining)));
        using var p = Build(Provider.OpenAI, server);
        Assert.Equal("ok", (await Ask(p, Provider.OpenAI)).Text);
        var s = p.Health.Snapshot();
        Assert.Equal(RateLimitWindow.Unknown, s.Requests);
        Assert.Equal(RateLimitWindow.Unknown, s.Tokens);
        Assert.Null(s.Headroom);
    }

    [Fact]
    public async Task Garbage_Anthropic_headers_read_as_unknown_and_a_contradiction_has_no_headroom()
    {
        using var server = new LoopbackServer(_ => With(LoopbackServer.AnthropicAnswer("ok", 10, 5),
            ("anthropic-ratelimit-requests-limit", "10"), ("anthropic-ratelimit-requests-remaining", "11"), ("anthropic-ratelimit-requests-reset", "2026-01-01 00:00:30"),
            ("anthropic-ratelimit-tokens-limit", "0"), ("anthropic-ratelimit-tokens-remaining", "0"), ("anthropic-ratelimit-tokens-reset", "tomorrow")));
        using var p = Build(Provider.Anthropic, server);
        Assert.Equal("ok", (await Ask(p, Provider.Anthropic)).Text);
        var s = p.Health.Snapshot();
        // The numbers are kept as sent, but neither a remaining count above its limit nor a zero limit is a headroom.
        Assert.Equal(new RateLimitWindow(10, 11, null), s.Requests);
        Assert.Equal(new RateLimitWindow(0, 0, null), s.Tokens);
        Assert.Null(s.Headroom);
    }

    [Fact]
    public async Task A_429_with_Retry_After_is_counted_with_its_wait_and_its_headers_are_read_before_the_retry_succeeds()
    {
        using var server = new LoopbackServer(_ => With(LoopbackServer.OpenAIAnswer("ok", 10, 5),
            ("x-ratelimit-limit-requests", "60"), ("x-ratelimit-remaining-requests", "59"), ("x-ratelimit-reset-requests", "1s")));
        server.Then(LoopbackServer.OpenAIError(429, "slow down", new Dictionary<string, string>
        {
            ["Retry-After"] = "7", ["x-ratelimit-limit-requests"] = "60", ["x-ratelimit-remaining-requests"] = "0", ["x-ratelimit-reset-requests"] = "7s",
        }));
        using var p = Build(Provider.OpenAI, server);
        Assert.Equal("ok", (await Ask(p, Provider.OpenAI)).Text);
        var s = p.Health.Snapshot();
        Assert.Equal((2L, 1L, 1L), (s.Responses, s.RateLimitedResponses, s.LatencySamples));
        Assert.Equal(Start.AddSeconds(7), s.RateLimitedUntil);
        // The retry waited the 7 s on the test's clock, so the wait is over and the successful answer's window is current.
        Assert.False(s.IsRateLimited);
        Assert.Equal(new RateLimitWindow(60, 59, Start.AddSeconds(8)), s.Requests);
    }

    [Fact]
    public async Task A_429_that_never_clears_leaves_the_provider_rate_limited_with_zero_headroom()
    {
        using var server = new LoopbackServer(_ => LoopbackServer.AnthropicError(429, "rate_limit_error", "slow down", new Dictionary<string, string>
        {
            ["retry-after"] = "20", ["anthropic-ratelimit-requests-limit"] = "50", ["anthropic-ratelimit-requests-remaining"] = "0",
            ["anthropic-ratelimit-requests-reset"] = "2026-01-01T00:05:00Z",
        }));
        using var p = Build(Provider.Anthropic, server);
        var e = await Assert.ThrowsAsync<ProviderCallException>(() => Ask(p, Provider.Anthropic));
        Assert.Equal(ProviderFailure.RateLimited, e.Failure);
        var s = p.Health.Snapshot();
        // Four attempts (three retries of 20 s each): the last 429 came at 60 s and asks until 80 s.
        Assert.Equal((4L, 4L, 0L), (s.Responses, s.RateLimitedResponses, s.LatencySamples));
        Assert.Equal(Start.AddSeconds(80), s.RateLimitedUntil);
        Assert.True(s.IsRateLimited);
        Assert.Equal(0.0, s.Headroom);
        Assert.Null(s.LatencySeconds);
    }

    [Theory]
    [InlineData("openai", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests", "12s", 12.0)]
    [InlineData("openai", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens", "1m30.5s", 60.0)] // capped at maxRetryAfterSeconds
    [InlineData("anthropic", "anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset", "2026-01-01T00:00:09Z", 9.0)]
    [InlineData("anthropic", "anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-tokens-reset", "2026-01-01T00:00:04Z", 4.0)]
    public async Task A_429_without_Retry_After_waits_until_the_exhausted_window_resets(string providerName, string remaining, string reset, string resetValue, double seconds)
    {
        var provider = RoutingNames.ParseProvider(providerName);
        using var server = new LoopbackServer(_ => provider == Provider.OpenAI ? LoopbackServer.OpenAIAnswer("ok", 10, 5) : LoopbackServer.AnthropicAnswer("ok", 10, 5));
        var headers = new Dictionary<string, string> { [remaining] = "0", [reset] = resetValue };
        server.Then(provider == Provider.OpenAI ? LoopbackServer.OpenAIError(429, "slow down", headers) : LoopbackServer.AnthropicError(429, "rate_limit_error", "slow down", headers));
        using var p = Build(provider, server);
        Assert.Equal("ok", (await Ask(p, provider)).Text);
        Assert.Equal([TimeSpan.FromSeconds(seconds)], p.Time.Waits);
    }

    [Fact]
    public async Task A_429_whose_windows_still_have_room_keeps_the_jittered_backoff()
    {
        using var server = new LoopbackServer(_ => LoopbackServer.OpenAIAnswer("ok", 10, 5));
        server.Then(LoopbackServer.OpenAIError(429, "slow down", new Dictionary<string, string> { ["x-ratelimit-remaining-requests"] = "5", ["x-ratelimit-reset-requests"] = "30s" }));
        using var p = Build(Provider.OpenAI, server);
        Assert.Equal("ok", (await Ask(p, Provider.OpenAI)).Text);
        var wait = Assert.Single(p.Time.Waits);
        Assert.InRange(wait.TotalSeconds, 0.01, 2.0);
    }

    [Fact]
    public void Latency_is_an_exponential_moving_average_started_at_the_first_answer()
    {
        var clock = new VirtualClock(Start);
        var health = new ProviderHealth(Provider.OpenAI, clock, new ProviderHealthOptions { LatencySmoothing = 0.25 });
        Assert.Null(health.Snapshot().LatencySeconds);
        health.Observe(RateLimitReading.None, false, 2.0, Start);
        Assert.Equal(2.0, health.Snapshot().LatencySeconds);
        health.Observe(RateLimitReading.None, false, 6.0, Start);
        Assert.Equal(3.0, health.Snapshot().LatencySeconds);
        health.Observe(RateLimitReading.None, false, null, Start); // a failed answer has no latency
        health.Observe(RateLimitReading.None, false, double.NaN, Start);
        health.Observe(RateLimitReading.None, false, 1.0, Start);
        Assert.Equal(2.5, health.Snapshot().LatencySeconds);
        Assert.Equal((3L, 5L), (health.Snapshot().LatencySamples, health.Snapshot().Responses));
    }

    [Fact]
    public void A_window_is_full_again_after_its_reset_and_a_reading_without_reset_ages_out()
    {
        var clock = new VirtualClock(Start);
        var health = new ProviderHealth(Provider.OpenAI, clock);
        health.Observe(new RateLimitReading(new RateLimitWindow(100, 0, Start.AddSeconds(10)), new RateLimitWindow(1000, 250, null), null), false, 1.0, Start);
        Assert.Equal((0.0, 0.25), (health.Snapshot().RequestHeadroom, health.Snapshot().TokenHeadroom));
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal((1.0, 0.25), (health.Snapshot().RequestHeadroom, health.Snapshot().TokenHeadroom));
        clock.Advance(TimeSpan.FromSeconds(50.5));
        Assert.Null(health.Snapshot().TokenHeadroom);
        Assert.Equal(RateLimitWindow.Unknown, health.Snapshot().Tokens);
        // A later response without headers does not erase what the last one said.
        health.Observe(RateLimitReading.None, false, 1.0, clock.GetUtcNow());
        Assert.Equal(1.0, health.Snapshot().RequestHeadroom);
    }

    [Fact]
    public async Task Overlapping_reports_are_all_counted()
    {
        var health = new ProviderHealth(Provider.OpenAI, new VirtualClock(Start));
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
        {
            for (var k = 0; k < 1000; k++)
                health.Observe(RateLimitReading.None, k % 10 == 0, 1.0, Start);
        })));
        var s = health.Snapshot();
        Assert.Equal((8000L, 800L, 8000L, 1.0), (s.Responses, s.RateLimitedResponses, s.LatencySamples, s.LatencySeconds!.Value));
    }

    [Theory]
    [InlineData("6m0s", 360.0)]
    [InlineData("1s", 1.0)]
    [InlineData("12ms", 0.012)]
    [InlineData("4m12.172s", 252.172)]
    [InlineData("23h18m29.144s", 83909.144)]
    [InlineData("1h2m3s", 3723.0)]
    [InlineData("500us", 0.0005)]
    [InlineData("0s", 0.0)]
    public void Go_durations_parse_to_seconds(string text, double seconds) =>
        Assert.Equal(seconds, RateLimitHeaders.ParseGoDuration(text)!.Value.TotalSeconds, 9);

    [Theory]
    [InlineData("")]
    [InlineData("s")]
    [InlineData("-1s")]
    [InlineData("1.s")]
    [InlineData("1 s")]
    [InlineData("6 minutes")]
    [InlineData("100")]
    [InlineData("99999999999999999999999999h")]
    public void Anything_else_is_not_a_Go_duration(string text) => Assert.Null(RateLimitHeaders.ParseGoDuration(text));

    [Theory]
    [InlineData(0.25, "250ms")]
    [InlineData(1.0, "1s")]
    [InlineData(59.5, "59.5s")]
    [InlineData(360.0, "6m0s")]
    [InlineData(3723.0, "1h2m3s")]
    public void Go_durations_are_written_as_Go_writes_them_and_read_back(double seconds, string text)
    {
        Assert.Equal(text, RateLimitHeaders.FormatGoDuration(TimeSpan.FromSeconds(seconds)));
        Assert.Equal(seconds, RateLimitHeaders.ParseGoDuration(text)!.Value.TotalSeconds, 9);
    }

    [Theory]
    [InlineData("2026-01-01T00:01:00Z", "2026-01-01T00:01:00Z")]
    [InlineData("2026-01-01T01:01:00+01:00", "2026-01-01T00:01:00Z")]
    [InlineData("2026-01-01T00:01:00.25Z", "2026-01-01T00:01:00.25Z")]
    public void RFC_3339_instants_parse_with_their_offsets(string text, string utc) =>
        Assert.Equal(DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture), RateLimitHeaders.ParseRfc3339(text));

    [Theory]
    [InlineData("2026-01-01T00:01:00")] // no offset: which zone?
    [InlineData("2026-01-01 00:01:00Z")]
    [InlineData("1767225660")]
    [InlineData("Thu, 01 Jan 2026 00:01:00 GMT")]
    public void Instants_without_RFC_3339_form_are_unknown(string text) => Assert.Null(RateLimitHeaders.ParseRfc3339(text));
}
