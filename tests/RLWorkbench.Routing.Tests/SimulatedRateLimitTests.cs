using Microsoft.Extensions.AI;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Providers;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Routing.Tests;

public class SimulatedRateLimitTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private sealed class Setup
    {
        public required VirtualClock Clock { get; init; }

        public required ProviderHealth Health { get; init; }

        public required SimulatedRateLimitChatClient Stage { get; init; }

        public required IChatClient Client { get; init; }

        public required CallLedger Ledger { get; init; }

        public required List<string> Notices { get; init; }
    }

    private static Setup Build(Provider provider, SimulatedProviderLimits limits, int maxRetries = 4)
    {
        var clock = new VirtualClock(Start);
        var health = new ProviderHealth(provider, clock);
        var notices = new List<string>();
        var simulated = new SimulatedChatClient(provider, SimulationProfile.Default, 7, TimeSpan.Zero);
        var stage = new SimulatedRateLimitChatClient(simulated, provider, limits, health, clock, 7, new ResilienceOptions { MaxRetries = maxRetries }, m => { lock (notices) notices.Add(m); });
        var ledger = new CallLedger();
        var client = new UsageAccountingChatClient(stage, provider, provider.Name(), PriceTable.Default, ledger, clock);
        return new Setup { Clock = clock, Health = health, Stage = stage, Client = client, Ledger = ledger, Notices = notices };
    }

    private static Task<ChatResponse> Ask(IChatClient client, Provider provider, int iteration) =>
        client.GetResponseAsync([new ChatMessage(ChatRole.User, "Summarise the quarterly report in three bullet points.")],
            new CallContext(iteration, CallPurpose.Agent, provider, AgentRole.Analyst, TaskType.Analysis, "a1").Attach(new ChatOptions { MaxOutputTokens = 512 }));

    [Fact]
    public async Task Over_the_request_limit_the_call_waits_the_Retry_After_on_the_virtual_clock_and_then_succeeds()
    {
        var s = Build(Provider.OpenAI, new SimulatedProviderLimits(3, null, null));
        for (var i = 0; i < 3; i++)
        {
            s.Clock.Advance(TimeSpan.FromSeconds(10));
            await Ask(s.Client, Provider.OpenAI, i);
        }
        var before = s.Health.Snapshot();
        Assert.Equal(new RateLimitWindow(3, 0, Start.AddSeconds(90)), before.Requests);
        Assert.Equal(0.0, before.Headroom);
        // The fourth call at 30 s: the oldest request (10 s) leaves the minute at 70 s, so Retry-After is 40 s.
        var started = DateTime.UtcNow;
        var response = await Ask(s.Client, Provider.OpenAI, 3);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "the wait is virtual");
        Assert.NotNull(response.Text);
        Assert.Equal(Start.AddSeconds(70), s.Clock.GetUtcNow());
        Assert.Equal(["openai: HTTP 429, retry 1 of 4 in 40.0 s"], s.Notices);
        var after = s.Health.Snapshot();
        Assert.Equal((5L, 1L, 4L), (after.Responses, after.RateLimitedResponses, after.LatencySamples));
        Assert.Equal(Start.AddSeconds(70), after.RateLimitedUntil);
        Assert.False(after.IsRateLimited);
        // At 70 s the minute holds the requests of 20 s, 30 s and 70 s.
        Assert.Equal(new RateLimitWindow(3, 0, Start.AddSeconds(130)), after.Requests);
        Assert.Equal(4, s.Ledger.Calls.Count);
    }

    [Fact]
    public async Task A_429_that_outlasts_every_retry_fails_exactly_as_a_real_one_and_no_call_is_recorded()
    {
        var s = Build(Provider.OpenAI, new SimulatedProviderLimits(1, null, null), maxRetries: 0);
        await Ask(s.Client, Provider.OpenAI, 0);
        var e = await Assert.ThrowsAsync<ProviderCallException>(() => Ask(s.Client, Provider.OpenAI, 1));
        Assert.Equal(ProviderFailure.RateLimited, e.Failure);
        Assert.Equal(Provider.OpenAI, e.Provider);
        Assert.Equal("openai kept answering HTTP 429 (rate limited) after every retry.", e.Message);
        Assert.Single(s.Ledger.Calls);
        Assert.Equal(Start, s.Clock.GetUtcNow());
        var h = s.Health.Snapshot();
        Assert.True(h.IsRateLimited);
        Assert.Equal(Start.AddSeconds(60), h.RateLimitedUntil);
    }

    [Fact]
    public async Task Over_the_token_limit_Retry_After_is_when_enough_tokens_have_left_the_minute()
    {
        var s = Build(Provider.OpenAI, new SimulatedProviderLimits(null, 300, null), maxRetries: 0);
        var first = CallRecord.Of(await Ask(s.Client, Provider.OpenAI, 0));
        var used = first.InputTokens + first.OutputTokens;
        Assert.True(used >= 300, $"the default profile's answer is long enough to fill the test's limit ({used} tokens)");
        Assert.Equal((1, used), s.Stage.Usage(s.Clock.GetUtcNow()));
        Assert.Equal(new RateLimitWindow(300, 0, Start.AddSeconds(60)), s.Health.Snapshot().Tokens);
        s.Clock.Advance(TimeSpan.FromSeconds(20.5));
        var e = await Assert.ThrowsAsync<ProviderCallException>(() => Ask(s.Client, Provider.OpenAI, 1));
        Assert.Equal(ProviderFailure.RateLimited, e.Failure);
        // 39.5 s until the first call's tokens leave, rounded up to the whole seconds Retry-After carries.
        Assert.Equal(Start.AddSeconds(60.5), s.Health.Snapshot().RateLimitedUntil);
        s.Clock.Advance(TimeSpan.FromSeconds(39.5));
        Assert.NotNull((await Ask(s.Client, Provider.OpenAI, 2)).Text);
    }

    [Fact]
    public async Task Anthropic_is_simulated_with_its_own_header_family_and_read_back_the_same_way()
    {
        var s = Build(Provider.Anthropic, new SimulatedProviderLimits(4, 100_000, null));
        s.Clock.Advance(TimeSpan.FromSeconds(0.5));
        var call = CallRecord.Of(await Ask(s.Client, Provider.Anthropic, 0));
        var h = s.Health.Snapshot();
        // RFC 3339 instants have whole seconds: 60.5 s is announced as 61 s.
        Assert.Equal(new RateLimitWindow(4, 3, Start.AddSeconds(61)), h.Requests);
        Assert.Equal(new RateLimitWindow(100_000, 100_000 - call.InputTokens - call.OutputTokens, Start.AddSeconds(61)), h.Tokens);
        Assert.Equal(0.75, h.Headroom);
    }

    [Fact]
    public async Task Overlapping_calls_are_admitted_up_to_the_limit_and_the_rest_are_refused()
    {
        var s = Build(Provider.OpenAI, new SimulatedProviderLimits(5, null, null), maxRetries: 0);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 12).Select(async i =>
        {
            try
            {
                await Ask(s.Client, Provider.OpenAI, i);
                return true;
            }
            catch (ProviderCallException e) when (e.Failure == ProviderFailure.RateLimited)
            {
                return false;
            }
        }));
        Assert.Equal(5, outcomes.Count(ok => ok));
        Assert.Equal((12L, 7L), (s.Health.Snapshot().Responses, s.Health.Snapshot().RateLimitedResponses));
    }

    [Fact]
    public async Task A_latency_distribution_replaces_the_reported_latency_and_feeds_the_health()
    {
        var s = Build(Provider.OpenAI, new SimulatedProviderLimits(null, null, new SimulatedLatency(2.5, 2.5)));
        var call = CallRecord.Of(await Ask(s.Client, Provider.OpenAI, 0));
        Assert.Equal(2.5, call.LatencySeconds);
        Assert.Equal(2.5, s.Health.Snapshot().LatencySeconds);
        // No limits were given, so no window is announced.
        Assert.Null(s.Health.Snapshot().Headroom);
    }

    [Fact]
    public async Task Without_limits_or_latency_the_stage_changes_no_number_of_the_simulated_answer()
    {
        var bare = new UsageAccountingChatClient(new SimulatedChatClient(Provider.Anthropic, SimulationProfile.Default, 7, TimeSpan.Zero), Provider.Anthropic, "m", PriceTable.Default, new CallLedger(), new VirtualClock(Start));
        var s = Build(Provider.Anthropic, new SimulatedProviderLimits(null, null, null));
        for (var i = 0; i < 5; i++)
        {
            var expected = await Ask(bare, Provider.Anthropic, i);
            var actual = await Ask(s.Client, Provider.Anthropic, i);
            Assert.Equal(expected.Text, actual.Text);
            var (e, a) = (CallRecord.Of(expected), CallRecord.Of(actual));
            Assert.Equal((e.InputTokens, e.OutputTokens, e.LatencySeconds, e.CostUsd), (a.InputTokens, a.OutputTokens, a.LatencySeconds, a.CostUsd));
        }
    }

    [Fact]
    public void Log_normal_latency_has_the_median_and_95th_percentile_it_was_given()
    {
        var latency = new SimulatedLatency(1.2, 3.5);
        var random = new SeededRandomSource(11);
        var draws = Enumerable.Range(0, 20_000).Select(_ => latency.Draw(random)).Order().ToArray();
        Assert.InRange(draws[10_000], 1.17, 1.23);
        Assert.InRange(draws[19_000], 3.35, 3.65);
        Assert.Equal(1.2 * Math.Exp(latency.Sigma * latency.Sigma / 2), latency.MeanSeconds, 12);
        Assert.Equal(Math.Log(3.5 / 1.2) / 1.6448536269514722, latency.Sigma, 12);
    }

    [Fact]
    public async Task A_virtual_wait_moves_the_clock_forward_by_its_length_at_once()
    {
        var clock = new VirtualClock(Start);
        var started = DateTime.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(30), clock).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(Start.AddSeconds(30), clock.GetUtcNow());
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
        // Two waits started together: the clock cannot tell they overlap, so the second starts where the first ended.
        await Task.WhenAll(Task.Delay(TimeSpan.FromSeconds(5), clock), Task.Delay(TimeSpan.FromSeconds(3), clock)).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(Start.AddSeconds(38), clock.GetUtcNow());
        Assert.Throws<ArgumentOutOfRangeException>(() => clock.Advance(TimeSpan.FromSeconds(-1)));
    }

    private const string Profile = """
        { "description": "x", "providers": {}, "scores": [],
          "rateLimits": { "openai": { "requestsPerMinute": 60, "tokensPerMinute": 40000, "latencySeconds": { "median": 1.2, "p95": 3.5 } },
                          "Anthropic": { "requestsPerMinute": 50 } } }
        """;

    [Fact]
    public void The_rateLimits_section_is_read_per_provider()
    {
        var limits = SimulatedRateLimits.FromProfile(Profile, "p.json");
        Assert.Equal(new SimulatedProviderLimits(60, 40000, new SimulatedLatency(1.2, 3.5)), limits.For(Provider.OpenAI));
        Assert.Equal(new SimulatedProviderLimits(50, null, null), limits.For(Provider.Anthropic));
        Assert.False(limits.IsUnlimited);
    }

    [Fact]
    public void A_profile_without_the_section_is_unlimited_and_the_profile_reader_ignores_the_section()
    {
        var json = EmbeddedData.Read("profile-default.json");
        Assert.True(SimulatedRateLimits.FromProfile(json, "default").IsUnlimited);
        var withSection = json.TrimEnd().TrimEnd('}') + """, "rateLimits": { "openai": { "requestsPerMinute": 5 } } }""";
        Assert.Equal(5, SimulatedRateLimits.FromProfile(withSection, "default").For(Provider.OpenAI)!.RequestsPerMinute);
        var profile = SimulationProfile.Parse(withSection, "default");
        Assert.Equal(SimulationProfile.Default.Scores(AgentRole.Coder, Provider.OpenAI, TaskType.Coding), profile.Scores(AgentRole.Coder, Provider.OpenAI, TaskType.Coding));
    }

    [Theory]
    [InlineData("""{"rateLimits": [1]}""", "\"rateLimits\" in the simulation profile p.json must be an object of providers, for example {\"openai\": {\"requestsPerMinute\": 60}}.")]
    [InlineData("""{"rateLimits": {"mistral": {}}}""", "Unknown provider 'mistral' under \"rateLimits\" in p.json; the providers are openai, anthropic.")]
    [InlineData("""{"rateLimits": {"openai": {"requestPerMinute": 5}}}""", "Unknown setting 'requestPerMinute' for openai under \"rateLimits\" in p.json; the settings are requestsPerMinute, tokensPerMinute, latencySeconds.")]
    [InlineData("""{"rateLimits": {"openai": {"requestsPerMinute": 0}}}""", "requestsPerMinute for openai under \"rateLimits\" in p.json must be a whole number of at least 1, not 0.")]
    [InlineData("""{"rateLimits": {"openai": {"requestsPerMinute": 1.5}}}""", "requestsPerMinute for openai under \"rateLimits\" in p.json must be a whole number of at least 1, not 1.5.")]
    [InlineData("""{"rateLimits": {"anthropic": {"tokensPerMinute": "lots"}}}""", "tokensPerMinute for anthropic under \"rateLimits\" in p.json must be a whole number of at least 1, not \"lots\".")]
    [InlineData("""{"rateLimits": {"openai": {"latencySeconds": {"median": 3, "p95": 1}}}}""", "latencySeconds for openai under \"rateLimits\" in p.json needs only a median above 0 and a p95 of at least the median and at most 3600, in seconds, for example {\"median\": 1.2, \"p95\": 3.5}.")]
    [InlineData("""{"rateLimits": {"openai": {"latencySeconds": {"mean": 1, "p95": 2}}}}""", "latencySeconds for openai under \"rateLimits\" in p.json needs only a median above 0 and a p95 of at least the median and at most 3600, in seconds, for example {\"median\": 1.2, \"p95\": 3.5}.")]
    public void Bad_limits_are_one_sentence_naming_the_value(string json, string message) =>
        Assert.Equal(message, Assert.Throws<RoutingInputException>(() => SimulatedRateLimits.FromProfile(json, "p.json")).Message);

    [Fact]
    public async Task The_simulated_backend_puts_the_stage_in_front_of_each_provider_the_section_names_and_only_those()
    {
        var dir = Directory.CreateTempSubdirectory("rlw-limits-");
        try
        {
            var path = Path.Combine(dir.FullName, "profile.json");
            File.WriteAllText(path, EmbeddedData.Read("profile-default.json").TrimEnd().TrimEnd('}') + """, "rateLimits": { "openai": { "requestsPerMinute": 1 } } }""");
            var notices = new List<string>();
            var options = new QlearnOptions { Profile = path };
            using var backends = ChatBackends.Build(options, _ => null, TimeProvider.System, null, PriceTable.Default, new CallLedger(), notices.Add, null, SimulationProfile.Load(path), null, null);
            var clock = Assert.IsType<VirtualClock>(backends.SimulatedClock);
            var start = clock.GetUtcNow();
            // Not the wall clock: simulated resets are written to the second, so a start with another sub-second fraction
            // would round them differently and make provider-aware runs differ from one run to the next.
            Assert.Equal(VirtualClock.FixedStart, start);
            foreach (var provider in new[] { Provider.OpenAI, Provider.OpenAI, Provider.Anthropic, Provider.Anthropic })
                await backends.Providers.Client(provider).GetResponseAsync([new ChatMessage(ChatRole.User, "hello")],
                    new CallContext(0, CallPurpose.Agent, provider, AgentRole.Researcher, TaskType.Research, "r1").Attach(backends.Providers.OptionsFor(provider)));
            Assert.Equal(start.AddSeconds(60), clock.GetUtcNow());
            Assert.Equal(["openai: HTTP 429, retry 1 of 4 in 60.0 s"], notices);
            Assert.Equal((3L, 1L), (backends.Health.For(Provider.OpenAI).Snapshot().Responses, backends.Health.For(Provider.OpenAI).Snapshot().RateLimitedResponses));
            Assert.Equal(0L, backends.Health.For(Provider.Anthropic).Snapshot().Responses);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Without_the_section_the_simulated_backend_has_no_virtual_clock_and_no_stage()
    {
        using var backends = ChatBackends.Build(new QlearnOptions(), _ => null, TimeProvider.System, null, PriceTable.Default, new CallLedger(), _ => { }, null, SimulationProfile.Default, null, null);
        Assert.Null(backends.SimulatedClock);
        Assert.IsType<SimulatedChatClient>(backends.Providers.Client(Provider.OpenAI).GetService(typeof(SimulatedChatClient)));
        Assert.Null(backends.Providers.Client(Provider.OpenAI).GetService(typeof(SimulatedRateLimitChatClient)));
    }

    [Fact]
    public void A_bad_section_is_refused_when_the_run_is_prepared_before_any_run_exists()
    {
        var dir = Directory.CreateTempSubdirectory("rlw-limits-");
        try
        {
            var path = Path.Combine(dir.FullName, "profile.json");
            File.WriteAllText(path, EmbeddedData.Read("profile-default.json").TrimEnd().TrimEnd('}') + """, "rateLimits": { "openai": { "requestsPerMinute": -5 } } }""");
            var e = Assert.Throws<RoutingInputException>(() => QlearnSession.Prepare(new QlearnOptions { Profile = path }, _ => null));
            Assert.Equal($"requestsPerMinute for openai under \"rateLimits\" in {path} must be a whole number of at least 1, not -5.", e.Message);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void The_shipped_rate_limited_profile_is_the_default_problem_with_limits()
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "RLWorkbench.sln")))
            dir = Path.GetDirectoryName(dir)!;
        var path = Path.Combine(dir, "experiments", "profiles", "rate-limited.json");
        var limits = SimulatedRateLimits.LoadProfile(path);
        Assert.Equal(new SimulatedProviderLimits(60, 60000, new SimulatedLatency(2.2, 4.0)), limits.For(Provider.OpenAI));
        Assert.Equal(new SimulatedProviderLimits(20, 30000, new SimulatedLatency(3.0, 7.0)), limits.For(Provider.Anthropic));
        var profile = SimulationProfile.Load(path);
        foreach (var a in RoutingNames.Agents)
        {
            foreach (var p in RoutingNames.Providers)
            {
                foreach (var t in RoutingNames.TaskTypes)
                    Assert.Equal(SimulationProfile.Default.Scores(a, p, t), profile.Scores(a, p, t));
            }
        }
        Assert.Equal(SimulationProfile.Default.Providers[Provider.Anthropic], profile.Providers[Provider.Anthropic]);
    }
}
