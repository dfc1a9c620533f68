using RLWorkbench.Comparison;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Comparison.Tests;

/// <summary>The chain baselines and the single-step view pick what they say they pick.</summary>
public sealed class ChainBaselineTests
{
    internal static RoutingProblem ChainProblem(IReadOnlyList<RoutingChain> chains) =>
        new(TaskBank.Default, SimulationProfile.Default, PriceTable.Default, Problems.Providers, Provider.OpenAI, new RewardOptions(), new LoadTrackerOptions(), false, chains: chains);

    private static RoutingContext Context(int state) => new(TaskBank.Default[0], state, 0, state, new LoadTracker(new LoadTrackerOptions()));

    private static RoutedTask Outcome(int chain, double reward) => new(TaskBank.Default[0], chain, reward, 0, reward, false, 0, 0);

    [Fact]
    public void Longest_chain_always_routes_the_configured_chain()
    {
        var problem = ChainProblem(new ChainOptions { MaxLength = 3 }.Enumerate());
        var router = new FixedChainRouter(problem, new ChainLearnerOptions().LongestChain);
        Assert.Equal("researcher/openai>analyst/openai>validator/openai", problem.Chains[router.Chain].Label);
        Assert.Equal([router.Chain, router.Chain, router.Chain], Enumerable.Range(0, 3).Select(s => router.Choose(Context(s))));
        Assert.Equal(Enumerable.Repeat(router.Chain, 4), ((TablePolicy)router.GreedyPolicy()).ActionPerState);
    }

    [Fact]
    public void Longest_chain_names_a_chain_the_problem_does_not_offer()
    {
        var problem = ChainProblem(new ChainOptions { MaxLength = 2 }.Enumerate());
        var missing = Assert.Throws<ComparisonInputException>(() => new FixedChainRouter(problem, "researcher/openai>analyst/openai>validator/openai"));
        Assert.Equal("The longest-chain baseline's chain 'researcher/openai>analyst/openai>validator/openai' is not among the problem's 56 chains; set chainLearners.longestChain to one it offers.", missing.Message);
        var repeated = Assert.Throws<ComparisonInputException>(() => new FixedChainRouter(problem, "researcher/openai>researcher/anthropic"));
        Assert.Equal("chainLearners.longestChain: The chain 'researcher/openai>researcher/anthropic' uses the researcher agent twice; each agent appears at most once in a chain.", repeated.Message);
    }

    [Fact]
    public void Best_single_is_the_oracle_table_of_the_single_step_problem()
    {
        var problem = Problems.Default();
        var model = new ExactRewardModel(problem);
        var router = new BestSingleRouter(problem, model);
        Assert.Equal(new PolicyValuer(model).OracleTable(), ((TablePolicy)router.GreedyPolicy()).ActionPerState);
        Assert.Equal(((TablePolicy)router.GreedyPolicy()).ActionPerState[2], router.Choose(Context(2)));
    }

    [Fact]
    public void Random_chain_draws_every_chain_and_is_valued_as_uniform()
    {
        var problem = ChainProblem(new ChainOptions { MaxLength = 3 }.Enumerate());
        var router = new RandomRouter(problem, new SeededRandomSource(4));
        var drawn = Enumerable.Range(0, 5000).Select(_ => router.Choose(Context(0))).ToHashSet();
        Assert.Equal(248, drawn.Count);
        Assert.IsType<UniformPolicy>(router.GreedyPolicy());
    }

    [Fact]
    public void A_single_step_learner_sees_only_the_single_steps_of_a_chain_problem()
    {
        var problem = ChainProblem(new[] { "researcher/openai>analyst/openai", "coder/openai", "validator/anthropic", "analyst/openai>coder/openai", "analyst/anthropic" }
            .Select(l => RoutingChain.Parse(l)).ToArray());
        var learner = new SingleStepLearner(problem, singles => BanditLearner.Ucb1(singles, 1.0), "ucb1");
        Assert.Equal(["coder/openai", "validator/anthropic", "analyst/anthropic"], learner.SingleSteps.Chains.Select(c => c.Label));
        // Untried first, in the single steps' order: problem chains 1, 2, 4.
        var rewards = new Dictionary<int, double> { [1] = 0.3, [2] = 0.7, [4] = 0.5 };
        foreach (var expected in new[] { 1, 2, 4 })
        {
            var chain = learner.Choose(Context(0));
            Assert.Equal(expected, chain);
            learner.Learn(Context(0), Outcome(chain, rewards[chain]));
        }
        Assert.Equal(2, ((TablePolicy)learner.GreedyPolicy()).ActionPerState[0]);
        // An untouched state keeps the first single step, which is problem chain 1.
        Assert.Equal(1, ((TablePolicy)learner.GreedyPolicy()).ActionPerState[3]);
        var tooFew = ChainProblem(new[] { "researcher/openai>analyst/openai", "coder/openai" }.Select(l => RoutingChain.Parse(l)).ToArray());
        var refused = Assert.Throws<ComparisonInputException>(() => new SingleStepLearner(tooFew, singles => BanditLearner.Ucb1(singles, 1.0), "ucb1"));
        Assert.Equal("The single-agent learner 'ucb1' needs at least two single (agent, provider) steps among the problem's chains; this problem offers 1, so allow single steps or leave 'ucb1' out.", refused.Message);
    }
}

/// <summary>`compare` refuses chain learner names and settings it cannot run, exit 2, before any run directory.</summary>
public sealed class ChainLearnerCommandTests
{
    [Fact]
    public void The_chain_smoke_configuration_runs_every_chain_learner_and_baseline()
    {
        var root = new System.CommandLine.RootCommand("test");
        root.Subcommands.Add(RLWorkbench.Cli.Commands.CompareCommand.Create());
        using var output = new StringWriter();
        using var error = new StringWriter();
        var dir = Path.Combine(Path.GetTempPath(), "rlw-compare-tests", Guid.NewGuid().ToString("N"));
        var config = Path.Combine(RepositoryPaths.Root, "experiments", "compare-chains-smoke.json");
        // The file names its profile relative to the checkout, as a user runs it; the test runs elsewhere.
        var code = RLWorkbench.Cli.CommandLine.Invoke(root, ["compare", "--config", config, "--profile", Path.Combine(RepositoryPaths.Root, "experiments", "profiles", "chains.json"), "--seeds", "1", "--budget", "1000", "--out", dir], output, error);
        Assert.True(code == 0, error.ToString());
        var lines = File.ReadAllLines(Path.Combine(dir, "summary.csv"));
        var header = lines[0].Split(',');
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToDictionary(c => c[0], c => header.Select((h, i) => (h, i)).ToDictionary(x => x.h, x => c[x.i]));
        Assert.Equal(17, rows.Count);
        string Final(string learner) => double.Parse(rows[learner]["final_expected_reward"], System.Globalization.CultureInfo.InvariantCulture).ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture);
        // The chains profile's oracle, the best single agent per type (98.5% of it, below the 99% threshold), always
        // researcher>analyst>validator on openai, and the uniform chain: fixed policies, so their values are known.
        Assert.Equal(("0.7994", "1"), (Final("oracle"), rows["oracle"]["settled_seeds"]));
        Assert.Equal(("0.7878", "0"), (Final("best-single"), rows["best-single"]["settled_seeds"]));
        Assert.Equal("0.5825", Final("longest-chain"));
        Assert.Equal("0.4787", Final("random-chain"));
        // ucb1 on the single steps tries each of 8 once per type and ends at the best single agent within 1,000 calls.
        Assert.Equal("0.7878", Final("ucb1"));
    }

    [Theory]
    [InlineData("Unknown learner 'ucb1-chain'; the learners are qlearn,", "--learner", "ucb1-chain")]
    [InlineData("The chain learner 'composed-chains' routes the base problem (state = task type); leave it out of the load-balanced problem.", "--learner", "composed-chains|--load-balanced")]
    [InlineData("chainLearners.composedNoise must be a positive number, got 0.", "--set", "chainLearners.composedNoise=0|--learner|composed-chains")]
    [InlineData("chainLearners.signalWindow must be between 1 and 1,000,000 tasks, got 0.", "--set", "chainLearners.signalWindow=0|--learner|ucb1-chains-state")]
    public void Bad_chain_learner_input_is_one_sentence_and_exit_code_2(string message, string option, string values)
    {
        var root = new System.CommandLine.RootCommand("test");
        root.Subcommands.Add(RLWorkbench.Cli.Commands.CompareCommand.Create());
        using var output = new StringWriter();
        using var error = new StringWriter();
        var dir = Path.Combine(Path.GetTempPath(), "rlw-compare-tests", Guid.NewGuid().ToString("N"));
        var code = RLWorkbench.Cli.CommandLine.Invoke(root, ["compare", option, .. values.Split('|'), "--out", dir], output, error);
        Assert.Equal(2, code);
        Assert.Contains(message, error.ToString());
        Assert.Single(error.ToString().Trim().Split('\n'));
        Assert.False(Directory.Exists(dir), "a refused comparison must not leave a run directory");
    }
}
