using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Routing.Tests;

public class ChainSimulationTests
{
    /// <summary>The embedded default profile with the given chain effects (and, optionally, coder/anthropic's coding relevance mean).</summary>
    private static SimulationProfile WithChainEffects(string effects, double? coderAnthropicRelevance = null)
    {
        var root = JsonNode.Parse(EmbeddedData.Read("profile-default.json"))!.AsObject();
        root["chainEffects"] = JsonNode.Parse(effects);
        if (coderAnthropicRelevance is { } mean)
        {
            var entry = root["scores"]!.AsArray().Single(s =>
                (string?)s!["role"] == "coder" && (string?)s["provider"] == "anthropic" && (string?)s["taskType"] == "coding")!;
            entry["relevance"]!["mean"] = mean;
        }
        return SimulationProfile.Parse(root.ToJsonString(), "the test profile");
    }

    private static string ShippedProfile(string name)
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "RLWorkbench.sln")))
            dir = Path.GetDirectoryName(dir)!;
        return Path.Combine(dir, "experiments", "profiles", name);
    }

    private const string CodingEffects = """
        {"diminishing": 0.5, "gains": [
          {"taskType": "coding", "from": "coder", "to": "validator", "gain": 0.5},
          {"taskType": "coding", "from": "validator", "to": "analyst", "gain": -0.4}]}
        """;

    [Fact]
    public void A_chains_quality_change_follows_the_pair_gains_with_diminishing_returns()
    {
        var profile = WithChainEffects(CodingEffects);
        var chain = RoutingChain.Parse("coder/openai>validator/openai>analyst/openai");

        // coder/openai on coding: q = 0.73. Step 2: g = 0.5 x 0.5325 (validator/openai on coding) = 0.26625, into the headroom:
        // q = 0.73 + 0.26625 x 0.27 = 0.8018875. Step 3, halved: g = -0.4 x 0.5325 x 0.5 = -0.1065, out of the quality:
        // q = 0.8018875 x (1 - 0.1065) = 0.71648648125.
        Assert.Equal(0.71648648125 - 0.73, profile.ChainQualityChange(chain, TaskType.Coding), 12);
        var scores = profile.ChainScores(chain, TaskType.Coding);
        Assert.Equal([0.73648648125, 0.70648648125, 0.66648648125, 0.75648648125],
            new[] { scores.Relevance.Mean, scores.Accuracy.Mean, scores.Completeness.Mean, scores.AgentMatch.Mean }, (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal(0.06, scores.Relevance.Spread);
        // No gain listed for this task type: the chain's quality is its first step's.
        Assert.Equal(0.0, profile.ChainQualityChange(chain, TaskType.Research));
    }

    [Fact]
    public void Shifted_score_means_are_clipped_into_zero_to_one()
    {
        var profile = WithChainEffects("""{"gains": [{"taskType": "coding", "from": "coder", "to": "validator", "gain": 1}]}""", coderAnthropicRelevance: 0.99);
        var chain = RoutingChain.Parse("coder/anthropic>validator/anthropic");

        // q = (0.99 + 0.91 + 0.87 + 0.95) / 4 = 0.93, g = 0.5625: change 0.5625 x 0.07 = 0.039375.
        Assert.Equal(0.039375, profile.ChainQualityChange(chain, TaskType.Coding), 12);
        var scores = profile.ChainScores(chain, TaskType.Coding);
        Assert.Equal(1.0, scores.Relevance.Mean);
        Assert.Equal(0.949375, scores.Accuracy.Mean, 12);
    }

    [Fact]
    public void Without_chain_effects_a_chain_is_judged_as_its_first_step_and_a_single_step_is_unchanged()
    {
        // The default profile carries chain effects (for qlearn --chains); without them a chain is only its cost.
        var root = JsonNode.Parse(EmbeddedData.Read("profile-default.json"))!.AsObject();
        root.Remove("chainEffects");
        var profile = SimulationProfile.Parse(root.ToJsonString(), "the default profile without its chain effects");
        var single = RoutingChain.Single(new RoutingAction(AgentRole.Coder, Provider.Anthropic));

        Assert.Same(profile.Scores(AgentRole.Coder, Provider.Anthropic, TaskType.Coding), profile.ChainScores(single, TaskType.Coding));
        Assert.Equal(0.0, profile.ChainQualityChange(RoutingChain.Parse("coder/anthropic>validator/openai>researcher/openai"), TaskType.Coding));
    }

    [Theory]
    [InlineData("""{"gains": [{"taskType": "coding", "from": "coder", "to": "coder", "gain": 0.1}]}""",
        "The chain gain coder>coder on coding tasks in the test profile hands over to the same agent; a chain never repeats an agent.")]
    [InlineData("""{"gains": [{"taskType": "coding", "from": "coder", "to": "validator", "gain": 1.5}]}""",
        "The chain gain coder>validator on coding tasks in the test profile is 1.5; gains must be between -1 and 1.")]
    [InlineData("""{"gains": [{"taskType": "coding", "from": "coder", "to": "validator", "gain": 0.1}, {"taskType": "coding", "from": "coder", "to": "validator", "gain": 0.2}]}""",
        "The simulation profile the test profile lists the chain gain coder>validator on coding tasks twice.")]
    [InlineData("""{"diminishing": 2}""", "chainEffects.diminishing in the test profile must be between 0 and 1, not 2.")]
    [InlineData("""{"gains": [{"taskType": "coding", "from": "writer", "to": "validator", "gain": 0.1}]}""",
        "Unknown agent 'writer'; the agents are researcher, analyst, coder, validator.")]
    public void Bad_chain_effects_are_one_sentence(string effects, string message) =>
        Assert.Equal(message, Assert.Throws<RoutingInputException>(() => WithChainEffects(effects)).Message);

    [Fact]
    public void The_shipped_chain_profile_reads_and_has_chain_effects()
    {
        var profile = SimulationProfile.Load(ShippedProfile("chains.json"));

        Assert.Equal(1.0, profile.Gain(TaskType.Research, AgentRole.Researcher, AgentRole.Validator));
        Assert.Equal(-0.5, profile.Gain(TaskType.Coding, AgentRole.Coder, AgentRole.Researcher));
        Assert.Equal(0.5, profile.ChainDiminishing);
        // Its single-agent scores are the default profile's: the chain effects are all it adds.
        foreach (var a in RoutingAction.All)
        {
            foreach (var t in RoutingNames.TaskTypes)
                Assert.Equal(SimulationProfile.Default.Scores(a.Agent, a.Provider, t), profile.Scores(a.Agent, a.Provider, t));
        }
    }

    private static async Task<ChatResponse> Ask(SimulatedChatClient client, CallContext context, string text = "task") =>
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, text)], context.Attach(new ChatOptions { MaxOutputTokens = 768 }));

    [Fact]
    public async Task A_chain_steps_answer_carries_as_many_tokens_as_it_reports_and_each_step_draws_its_own()
    {
        var client = new SimulatedChatClient(Provider.OpenAI, SimulationProfile.Default, seed: 3, TimeSpan.Zero);
        var chain = RoutingChain.Parse("coder/openai>validator/openai");
        var single = new CallContext(4, CallPurpose.Agent, Provider.OpenAI, AgentRole.Coder, TaskType.Coding, "c1");

        var alone = await Ask(client, single);
        var first = await Ask(client, single with { Chain = chain });
        var second = await Ask(client, single with { Role = AgentRole.Validator, Step = 1, Chain = chain });

        // The first step draws what the single call draws; only its text is full length.
        Assert.Equal(alone.Usage!.OutputTokenCount, first.Usage!.OutputTokenCount);
        Assert.Equal($"[simulated coder answer from openai to task c1, {alone.Usage.OutputTokenCount} tokens]", alone.Text);
        Assert.Equal(4 * first.Usage.OutputTokenCount, first.Text.Length);
        Assert.StartsWith(alone.Text, first.Text);
        Assert.Equal(first.Usage.OutputTokenCount, SimulatedChatClient.EstimateTokens(first.Text));
        Assert.NotEqual(first.Usage.OutputTokenCount, second.Usage!.OutputTokenCount);
        Assert.Equal(4 * second.Usage.OutputTokenCount, second.Text.Length);
    }

    [Fact]
    public async Task The_simulated_judge_scores_a_chain_from_its_shifted_scores()
    {
        var profile = WithChainEffects("""{"gains": [{"taskType": "coding", "from": "coder", "to": "validator", "gain": -1}]}""");
        var client = new SimulatedChatClient(Provider.OpenAI, profile, seed: 5, TimeSpan.Zero);
        var chain = RoutingChain.Parse("coder/anthropic>validator/anthropic");
        double single = 0, chained = 0;
        var n = 0;
        for (var i = 0; i < 200; i++)
        {
            var context = new CallContext(i, CallPurpose.Judge, Provider.OpenAI, AgentRole.Validator, TaskType.Coding, "c1", Provider.Anthropic);
            var alone = JudgePrompt.Parse((await Ask(client, context with { Role = AgentRole.Coder })).Text);
            var judged = JudgePrompt.Parse((await Ask(client, context with { Chain = chain })).Text);
            if (alone.ParseFailure || judged.ParseFailure)
                continue;
            single += alone.Quality;
            chained += judged.Quality;
            n++;
        }
        // coder/anthropic: 0.9175; the chain: 0.9175 x (1 - 0.5625) = 0.40140625. 200 draws of a mean of four scores with
        // spread 0.06 have a standard error near 0.002.
        Assert.InRange(single / n, 0.9175 - 0.01, 0.9175 + 0.01);
        Assert.InRange(chained / n, 0.40140625 - 0.01, 0.40140625 + 0.01);
    }

    private static readonly Dictionary<Provider, ProviderSettings> Settings = new()
    {
        [Provider.OpenAI] = new() { Model = "gpt-4o-mini" },
        [Provider.Anthropic] = new() { Model = "claude-3-5-haiku-latest" },
    };

    private static RoutedTaskExecutor Executor(Func<Provider, IChatClient> source, CassetteWriter? recorder) =>
        new(new ChatProviders(
            RoutingNames.Providers.ToDictionary(p => p, p => ChatPipeline.Around(source(p), p, Settings[p].Model, PriceTable.Default, new CallLedger(), recorder, TimeProvider.System)),
            Settings, Provider.OpenAI), new CompositeReward(new RewardOptions()));

    [Fact]
    public async Task A_cassette_records_every_step_of_a_chain_and_replays_it_exactly()
    {
        var path = Path.Combine(Path.GetTempPath(), $"rlw-chain-cassette-{Guid.NewGuid():N}.jsonl");
        var profile = SimulationProfile.Load(ShippedProfile("chains.json"));
        var chain = RoutingChain.Parse("researcher/openai>validator/anthropic>analyst/openai");
        var task = TaskBank.Default.Tasks.First(t => t.Type == TaskType.Research);
        RoutedChainResult recorded;
        using (var writer = new CassetteWriter(path))
            recorded = await Executor(p => new SimulatedChatClient(p, profile, seed: 9, TimeSpan.Zero), writer).ExecuteChainAsync(2, task, chain, null, CancellationToken.None);

        var entries = Cassette.Read(path);
        var replayed = await Executor(p => new CassetteReplayChatClient(p, Settings[p].Model, entries, path), null).ExecuteChainAsync(2, task, chain, null, CancellationToken.None);

        Assert.Equal(["openai", "anthropic", "openai", "openai"], entries.Select(e => e.Provider));
        Assert.Contains(recorded.Steps[0].Output, entries[1].Messages[1].Text);
        Assert.Equal(recorded.Steps.Select(s => s.Output), replayed.Steps.Select(s => s.Output));
        Assert.Equal(recorded.Calls.Select(c => (c.InputTokens, c.OutputTokens, c.CostUsd, c.LatencySeconds)), replayed.Calls.Select(c => (c.InputTokens, c.OutputTokens, c.CostUsd, c.LatencySeconds)));
        Assert.Equal(recorded.Verdict, replayed.Verdict);
        Assert.Equal(recorded.RawReward, replayed.RawReward);

        // Another chain asks what was never recorded: the replay names the step and the chain, and the caller gets the step before it.
        var other = RoutingChain.Parse("researcher/openai>analyst/anthropic");
        var e = await Assert.ThrowsAsync<ChainInterruptedException>(() =>
            Executor(p => new CassetteReplayChatClient(p, Settings[p].Model, entries, path), null).ExecuteChainAsync(2, task, other, null, CancellationToken.None));
        Assert.Single(e.Completed);
        Assert.Contains("(iteration 3, agent call at step 2 of the chain researcher/openai>analyst/anthropic, analyst on task r1)", Assert.IsType<CassetteExhaustedException>(e.InnerException).Message);
    }

    /// <summary>The embedded default carries the chain problem's effects, so `qlearn --chains` on the default has something to learn.</summary>
    [Fact]
    public void The_default_profile_carries_chain_effects()
    {
        var profile = SimulationProfile.Default;
        Assert.True(profile.ChainQualityChange(RoutingChain.Parse("researcher/openai>validator/openai"), TaskType.Research) > 0.05);
        Assert.True(profile.ChainQualityChange(RoutingChain.Parse("coder/anthropic>researcher/openai"), TaskType.Coding) < 0);
    }
}
