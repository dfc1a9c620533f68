using System.CommandLine;
using RLWorkbench.Cli;
using RLWorkbench.Cli.Commands;

namespace RLWorkbench.Comparison.Tests;

/// <summary>`compare` as a user calls it, in process: exit codes and the files a run leaves.</summary>
public sealed class CommandTests
{
    private static (int Code, string Output, string Error) Invoke(params string[] args)
    {
        var root = new RootCommand("test");
        root.Subcommands.Add(CompareCommand.Create());
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = CommandLine.Invoke(root, ["compare", .. args], output, error);
        return (code, output.ToString(), error.ToString());
    }

    private static string TempDirectory() => Path.Combine(Path.GetTempPath(), "rlw-compare-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public void The_smoke_configuration_writes_tables_report_and_plots()
    {
        var dir = TempDirectory();
        var (code, output, error) = Invoke("--config", Path.Combine(RepositoryPaths.Root, "experiments", "compare-smoke.json"), "--out", dir);
        Assert.True(code == 0, error);
        foreach (var file in new[] { "summary.csv", "seeds.csv", "curves.csv", "curve_summary.csv", "summary.md", "oracle.json", "config.json", "artifacts/plots/reward_vs_calls.png", "artifacts/plots/calls_to_threshold.png" })
            Assert.True(File.Exists(Path.Combine(dir, file)), $"{file} is missing");
        // One row per learner and seed in seeds.csv, nine learners by two seeds.
        Assert.Equal(1 + 9 * 2, File.ReadAllLines(Path.Combine(dir, "seeds.csv")).Length);
        // The oracle's policy is at its own value from the first checkpoint: settled in both seeds at 0 calls. Uniform random
        // routing never gets there: censored at the budget, its median beyond it (an empty cell), and still counted as a seed.
        var summary = Summary(dir);
        Assert.Equal(("2", "0"), (summary["oracle"]["settled_seeds"], summary["oracle"]["settled_median_calls"]));
        Assert.Equal(("2", "0", "", "400"), (summary["random"]["seeds"], summary["random"]["settled_seeds"], summary["random"]["settled_median_calls"], summary["random"]["budget_calls"]));
        // The terminal gets an aligned table, not Markdown; summary.md keeps the Markdown table.
        Assert.DoesNotContain("| --- |", output);
        Assert.Matches(@"(?m)^random +0\.5331 \[0\.5331, 0\.5331\] +0/2 +> 400 +0/2 +> 400 ", output);
        Assert.Matches(@"(?m)^oracle +0\.7878 \[0\.7878, 0\.7878\] +2/2 +0 \[0, 0\] +2/2 +0 ", output);
        Assert.Contains("| uniform random (`random`) |", File.ReadAllText(Path.Combine(dir, "summary.md")));
        // Neither Q-learning nor PPO settles within 400 calls: the headline says there is no ratio rather than printing one.
        var ratios = File.ReadAllLines(Path.Combine(dir, "ratios.csv"));
        Assert.Equal(3, ratios.Length);
        Assert.StartsWith("qlearn,ppo-seed,none,,,,", ratios[1]);
        // The rescaled PPO settings are printed next to the headline.
        Assert.Contains("PPO: ppo-seed and ppo-small run with settings rescaled to a budget of calls (rollout 2 x 16 = 64 calls per update, minibatch 16, 2 epochs, lr 0.001, gamma 0.95, GAE lambda 0.95).", output);
        Assert.Contains("* Neither Q-learning nor PPO (seed network) settled at 95% of the oracle in half its seeds within the budget", output);
        Assert.Contains("\"status\": \"finished\"", File.ReadAllText(Path.Combine(dir, "status.json")));
    }

    /// <summary>summary.csv by learner and column (none of the checked cells holds a comma).</summary>
    private static Dictionary<string, Dictionary<string, string>> Summary(string dir)
    {
        var lines = File.ReadAllLines(Path.Combine(dir, "summary.csv"));
        var header = lines[0].Split(',');
        return lines.Skip(1).Select(l => l.Split(',')).ToDictionary(cells => cells[0], cells => header.Select((h, i) => (h, i)).ToDictionary(c => c.h, c => cells[c.i]));
    }

    [Fact]
    public void The_pareto_smoke_configuration_writes_its_tables_report_and_figures()
    {
        var dir = TempDirectory();
        var (code, output, error) = Invoke("--config", Path.Combine(RepositoryPaths.Root, "experiments", "compare-pareto-smoke.json"), "--out", dir);
        Assert.True(code == 0, error);
        foreach (var file in new[] { "pareto_runs.csv", "pareto_summary.csv", "pareto_hypervolume.csv", "pareto_learners.csv", "pareto_exact.csv", "pareto_baselines.csv",
            "pareto_optima.csv", "pareto.json", "summary.md", "artifacts/plots/pareto_quality_vs_cost.png", "artifacts/plots/pareto_quality_vs_latency.png", "artifacts/plots/pareto_hypervolume_vs_calls.png" })
            Assert.True(File.Exists(Path.Combine(dir, file)), $"{file} is missing");
        // Seven weight vectors x four learners x three seeds: the vector bandit's one run per seed is listed under every weight vector.
        Assert.Equal(1 + 7 * 4 * 3, File.ReadAllLines(Path.Combine(dir, "pareto_runs.csv")).Length);
        // Every deterministic per-type policy: 8^4.
        Assert.Contains("\"deterministicPolicies\": 4096", File.ReadAllText(Path.Combine(dir, "pareto.json")));
        var learners = File.ReadAllLines(Path.Combine(dir, "pareto_learners.csv"));
        var header = learners[0].Split(',');
        var rows = learners.Skip(1).Select(l => l.Split(',')).ToDictionary(c => c[0], c => header.Select((h, i) => (h, i)).ToDictionary(x => x.h, x => c[x.i]));
        // The vector bandit's whole front took one run of 2,000 calls; the others one run per weight vector.
        Assert.Equal(("2000", "14000"), (rows["ucb1-vector"]["front_budget_calls"], rows["ucb1"]["front_budget_calls"]));
        Assert.Contains("# Pareto fronts", output);
    }

    [Theory]
    [InlineData("Unknown objective 'speed'", "--weights", "quality=1,speed=2")]
    [InlineData("The weight of cost must be a finite number of at least 0, not '-1'.", "--weights", "quality=1,cost=-1")]
    [InlineData("The weight of quality must be a finite number of at least 0, not 'NaN'.", "--weights", "quality=NaN")]
    [InlineData("are all zero", "--weights", "quality=0,cost=0")]
    [InlineData("The learner 'ucb1-vector' learns the reward vector for a Pareto sweep; give weights", "--learner", "ucb1-vector")]
    [InlineData("The learner 'random' has no greedy table to place on a Pareto front", "--set", "learners=[\"random\"]")]
    [InlineData("Weighted objectives (weights) are compared on the base problem", "--load-balanced", "WEIGHTED")]
    [InlineData("Unknown learner 'dqn'", "--learner", "dqn")]
    [InlineData("too small to evaluate", "--budget", "10")]
    [InlineData("too small to evaluate PPO", "--budget", "200")]
    [InlineData("too small to evaluate ppo-seed-settings: one rollout of 4 x 2048 tasks costs 16384 calls and PPO needs at least two updates, so give at least 32768 calls or leave ppo-seed-settings out.", "--budget", "10000")]
    [InlineData("at least two actions", "--config", "ONE_ACTION")]
    [InlineData("does not exist", "--profile", "/nonexistent/profile.json")]
    [InlineData("error: unknown setting 'ppo.trainer.learnRate'; did you mean 'ppo.trainer.learningRate'?", "--set", "ppo.trainer.learnRate=0.1")]
    [InlineData("error: 'seeds' must be a whole number, got \"ten\".", "--set", "seeds=ten")]
    [InlineData("error: budgetUsd caps what live calls spend; it needs the real backend (--real).", "--set", "budgetUsd=1")]
    public void Bad_input_is_one_sentence_and_exit_code_2(string message, string option, string value)
    {
        if (value == "ONE_ACTION")
        {
            value = Path.Combine(Path.GetTempPath(), $"rlw-one-action-{Guid.NewGuid():N}.json");
            File.WriteAllText(value, """{"problem": {"actions": ["coder/anthropic"]}, "learners": ["random"]}""");
        }
        var dir = TempDirectory();
        var pareto = Path.Combine(RepositoryPaths.Root, "experiments", "compare-pareto-smoke.json");
        var (code, _, error) = option == "--load-balanced"
            ? Invoke("--config", pareto, option, "--out", dir)
            : option == "--weights" || value.Contains("random", StringComparison.Ordinal)
                ? Invoke("--config", pareto, option, value, "--out", dir)
                : Invoke(option, value, "--out", dir);
        Assert.Equal(2, code);
        Assert.Contains(message, error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists(dir), "a refused comparison must not leave a run directory");
    }
}
