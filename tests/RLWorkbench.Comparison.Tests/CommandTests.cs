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
        Assert.Contains("the seed claimed about 1,667x", output, StringComparison.OrdinalIgnoreCase);
        // One row per learner and seed in seeds.csv, nine learners by two seeds.
        Assert.Equal(1 + 9 * 2, File.ReadAllLines(Path.Combine(dir, "seeds.csv")).Length);
        Assert.Contains("\"status\": \"finished\"", File.ReadAllText(Path.Combine(dir, "status.json")));
    }

    [Theory]
    [InlineData("Unknown learner 'dqn'", "--learner", "dqn")]
    [InlineData("too small to evaluate", "--budget", "10")]
    [InlineData("too small to evaluate PPO", "--budget", "200")]
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
        var (code, _, error) = Invoke(option, value, "--out", dir);
        Assert.Equal(2, code);
        Assert.Contains(message, error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists(dir), "a refused comparison must not leave a run directory");
    }
}
