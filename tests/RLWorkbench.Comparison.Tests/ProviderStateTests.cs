using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Providers;

namespace RLWorkbench.Comparison.Tests;

/// <summary>problem.providerState: provider headroom and latency as continuous inputs for PPO (issue 14 item 1).</summary>
public sealed class ProviderStateTests
{
    /// <summary>
    /// openai allows 4 requests a minute and always answers in exactly 1 s (median = p95); anthropic 100 a minute in 2 s. Tasks
    /// arrive 6,000 a minute, so the minute never passes during a test and openai's window only fills.
    /// </summary>
    private static RoutingProblem Problem(int retries = 0, bool loadBalanced = false, IReadOnlyList<RoutingChain>? chains = null)
    {
        const string limits = """
            {"rateLimits": {"openai": {"requestsPerMinute": 4, "latencySeconds": {"median": 1.0, "p95": 1.0}},
                            "anthropic": {"requestsPerMinute": 100, "latencySeconds": {"median": 2.0, "p95": 2.0}}}}
            """;
        var state = new ProviderStateOptions(SimulatedRateLimits.FromProfile(limits, "the test limits"), 6000, retries, new HealthBucketOptions());
        return new RoutingProblem(TaskBank.Default, SimulationProfile.Parse(Problems.Profile(), "the test profile"), PriceTable.Default, Problems.Providers,
            Provider.OpenAI, new RewardOptions(), new LoadTrackerOptions(), loadBalanced, chains: chains, providerState: state);
    }

    private static int ActionOf(RoutingProblem problem, AgentRole agent, Provider provider) =>
        problem.Actions.Select((a, i) => (a, i)).First(x => x.a == new RoutingAction(agent, provider)).i;

    private static float[] HealthPart(RoutingEnvironment env)
    {
        var observation = new float[env.Problem.ObservationSize];
        env.WriteObservation(observation);
        return observation[RoutingProblem.TypeCount..];
    }

    [Fact]
    public void The_observation_appends_each_providers_health_and_it_changes_when_openai_runs_out_of_headroom()
    {
        var problem = Problem();
        // Four task-type one-hots, then four features for openai and four for anthropic.
        Assert.Equal(4 + 2 * 4, problem.ObservationSize);
        using var env = new RoutingEnvironment(problem, SimulatedRoutingBackend.Factory, seed: 3);
        // Nobody has answered yet: both providers unknown on both axes.
        Assert.Equal([0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f], HealthPart(env));

        var openai = ActionOf(problem, AgentRole.Coder, Provider.OpenAI);
        var anthropic = ActionOf(problem, AgentRole.Coder, Provider.Anthropic);
        env.Route(openai);
        // The agent's and the judge's call (the judge is openai): 2 of 4 left, latency 1 s of the 2 x 5 s scale.
        Assert.Equal([0.5f, 1f, 0.1f, 1f, 0f, 0f, 0f, 0f], HealthPart(env));
        env.Route(anthropic);
        // anthropic answered once (99 of 100 left, 2 s); the judge took openai's third request.
        Assert.Equal([0.25f, 1f, 0.1f, 1f, 0.99f, 1f, 0.2f, 1f], HealthPart(env));
        Assert.Equal((0, 4L), (env.RateLimitedTasks, env.LlmCalls));

        // The judge takes openai's last request, then the next agent call is refused: no headroom, waiting out Retry-After.
        env.Route(anthropic);
        Assert.Equal([0f, 1f, 0.1f, 1f, 0.98f, 1f, 0.2f, 1f], HealthPart(env));
        var refused = env.Route(openai);
        Assert.Equal((0.0, 1, 7L), (refused.AdjustedReward, env.RateLimitedTasks, env.LlmCalls));
        // A 429 on the judge after anthropic answered: the agent's call was sent and billed, the task still fails.
        var judged = env.Route(anthropic);
        Assert.Equal((0.0, 2, 9L), (judged.AdjustedReward, env.RateLimitedTasks, env.LlmCalls));
        Assert.True(judged.AgentCostUsd > 0);
    }

    [Fact]
    public void The_greedy_read_out_sees_ample_headroom_and_unknown_latency_for_every_provider()
    {
        var problem = Problem();
        var all = problem.AllObservations();
        Assert.Equal(problem.StateCount * problem.ObservationSize, all.Length);
        // State 2 (coding): its one-hot, then [headroom 1, known, latency 0, unknown] for each provider.
        Assert.Equal([0f, 0f, 1f, 0f, 1f, 1f, 0f, 0f, 1f, 1f, 0f, 0f], all.AsSpan(2 * problem.ObservationSize, problem.ObservationSize).ToArray());
    }

    [Fact]
    public void On_the_load_balanced_problem_the_features_follow_the_load_state_one_hot()
    {
        var problem = Problem(loadBalanced: true);
        Assert.Equal((4 + 5 + 8, 9), (problem.ObservationSize, problem.HealthFeaturesOffset));
        using var env = new RoutingEnvironment(problem, SimulatedRoutingBackend.Factory, seed: 3);
        env.Route(ActionOf(problem, AgentRole.Coder, Provider.OpenAI));
        var observation = new float[problem.ObservationSize];
        env.WriteObservation(observation);
        Assert.Equal([0.5f, 1f, 0.1f, 1f, 0f, 0f, 0f, 0f], observation[9..]);
    }

    [Fact]
    public void A_chain_refused_at_its_second_step_bills_the_first_and_fails_with_reward_0()
    {
        var chains = new[] { RoutingChain.Parse("researcher/openai>validator/openai"), RoutingChain.Parse("coder/anthropic") };
        var problem = Problem(chains: chains);
        using var env = new RoutingEnvironment(problem, SimulatedRoutingBackend.Factory, seed: 3);
        // Two openai steps and the openai judge: 1 of 4 requests left.
        var first = env.Route(0);
        Assert.True(first.AdjustedReward > 0);
        Assert.Equal((0, 3L), (env.RateLimitedTasks, env.LlmCalls));
        var dollarsBefore = env.DollarsSpent;
        // The first step takes the last request, the second is refused: one answered call billed, one refused counted.
        var refused = env.Route(0);
        Assert.Equal((0.0, 1, 5L), (refused.AdjustedReward, env.RateLimitedTasks, env.LlmCalls));
        Assert.Equal(env.DollarsSpent - dollarsBefore, refused.AgentCostUsd, 12);
        Assert.True(refused.AgentCostUsd > 0);
    }

    [Fact]
    public void Without_the_option_the_observation_is_the_one_hot_alone()
    {
        var problem = Problems.Default();
        Assert.Null(problem.ProviderState);
        Assert.Equal(4, problem.ObservationSize);
        using var env = new RoutingEnvironment(problem, SimulatedRoutingBackend.Factory, seed: 3);
        var observation = new float[4];
        env.Reset(3, observation);
        Assert.Equal(1f, observation.Sum());
    }

    [Fact]
    public void A_profile_without_rate_limits_is_refused()
    {
        var e = Assert.Throws<ComparisonInputException>(() => new RoutingProblem(TaskBank.Default, SimulationProfile.Default, PriceTable.Default, Problems.Providers,
            Provider.OpenAI, new RewardOptions(), new LoadTrackerOptions(), loadBalanced: false,
            providerState: new ProviderStateOptions(SimulatedRateLimits.Unlimited, 60, 4, new HealthBucketOptions())));
        Assert.StartsWith("problem.providerState needs a simulation profile with a \"rateLimits\" section", e.Message);
    }
}

/// <summary>`compare` with problem.providerState, in process: the smoke configuration and the refusals.</summary>
public sealed class ProviderStateCommandTests
{
    private static (int Code, string Output, string Error) Invoke(params string[] args)
    {
        var root = new System.CommandLine.RootCommand("test");
        root.Subcommands.Add(RLWorkbench.Cli.Commands.CompareCommand.Create());
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = RLWorkbench.Cli.CommandLine.Invoke(root, ["compare", .. args], output, error);
        return (code, output.ToString(), error.ToString());
    }

    private static string TempDirectory() => Path.Combine(Path.GetTempPath(), "rlw-compare-tests", Guid.NewGuid().ToString("N"));

    private static string Config => Path.Combine(RepositoryPaths.Root, "experiments", "compare-provider-state-smoke.json");

    // The file names its profile relative to the checkout, as a user runs it; the test runs elsewhere.
    private static string RateLimitedProfile => Path.Combine(RepositoryPaths.Root, "experiments", "profiles", "rate-limited.json");

    [Fact]
    public void The_provider_state_smoke_runs_ppo_and_ucb1_and_reports_the_tasks_429_failed()
    {
        var dir = TempDirectory();
        var (code, output, error) = Invoke("--config", Config, "--profile", RateLimitedProfile, "--out", dir);
        Assert.True(code == 0, error);
        var seeds = File.ReadAllLines(Path.Combine(dir, "seeds.csv"));
        Assert.EndsWith(",final_policy,rate_limited_tasks", seeds[0]);
        Assert.Equal(1 + 2 * 2, seeds.Length);
        var perRun = seeds.Skip(1).Select(l => (Learner: l.Split(',')[0], Failed: int.Parse(l.Split(',')[^1], System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        // 30 tasks a minute, no retries: both learners hit the limits now and then, each run on its own providers.
        Assert.All(perRun, r => Assert.InRange(r.Failed, 1, 999));
        var total = perRun.Sum(r => r.Failed);
        var ppo = perRun.Where(r => r.Learner == "ppo-small").Sum(r => r.Failed);
        var ucb1 = perRun.Where(r => r.Learner == "ucb1").Sum(r => r.Failed);
        var line = $"Provider state: the profile's rate limits on a virtual clock, 30 tasks a minute. Tasks failed on HTTP 429 after 0 retries (reward 0): {total:N0} over all runs (`ppo-small` {ppo:N0}, `ucb1` {ucb1:N0}).";
        Assert.Contains(line, File.ReadAllText(Path.Combine(dir, "summary.md")));
        Assert.Contains(line, output);
        // PPO's input grew by four features per provider: 4 one-hots + 8.
        Assert.Contains("provider state: the profile's rate limits on a virtual clock, 30 tasks a minute, 0 retries of a 429; PPO sees each provider's headroom and latency (12 inputs)", output);
    }

    [Theory]
    [InlineData("problem.providerState needs problem.arrivalsPerMinute", "--set|problem.providerState=true")]
    [InlineData("problem.providerState needs a simulation profile with a \"rateLimits\" section, for example experiments/profiles/rate-limited.json; the embedded default has none.", "--set|problem.providerState=true|--set|problem.arrivalsPerMinute=60")]
    [InlineData("problem.providerState needs a simulation profile with a \"rateLimits\" section (e.g. experiments/profiles/rate-limited.json)", "--set|problem.providerState=true|--set|problem.arrivalsPerMinute=60|--profile|DEFAULT_PROFILE")]
    [InlineData("problem.arrivalsPerMinute must be a number above 0 and at most 1,000,000, not 0.", "--config|SMOKE|--set|problem.arrivalsPerMinute=0")]
    [InlineData("problem.rateLimitRetries must be a whole number from 0 to 20, not -1.", "--config|SMOKE|--set|problem.rateLimitRetries=-1")]
    [InlineData("problem.providerState runs on the simulated backend (without --record)", "--config|SMOKE|--record|RECORD")]
    [InlineData("problem.arrivalsPerMinute paces the simulated providers' clock for problem.providerState", "--set|problem.arrivalsPerMinute=60")]
    public void Bad_provider_state_input_is_one_sentence_and_exit_code_2(string message, string arguments)
    {
        var dir = TempDirectory();
        var args = arguments.Split('|').Select(a => a switch
        {
            "SMOKE" => Config,
            "DEFAULT_PROFILE" => Path.Combine(RepositoryPaths.Root, "experiments", "profiles", "default.json"),
            "RECORD" => Path.Combine(Path.GetTempPath(), $"rlw-ps-{Guid.NewGuid():N}.jsonl"),
            _ => a,
        }).ToList();
        if (args.Contains(Config))
            args.AddRange(["--profile", RateLimitedProfile]);
        var (code, _, error) = Invoke([.. args, "--out", dir]);
        Assert.Equal(2, code);
        Assert.Contains(message, error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists(dir), "a refused comparison must not leave a run directory");
    }
}
