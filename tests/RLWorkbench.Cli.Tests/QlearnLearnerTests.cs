namespace RLWorkbench.Cli.Tests;

public class QlearnLearnerTests
{
    [Fact]
    public void An_unknown_learner_is_exit_2_with_one_sentence_naming_the_learners()
    {
        var dir = Path.Combine(Workbench.TempDirectory(), "sarsa");
        var run = Workbench.Run("qlearn", "--learner", "sarsa", "--out", dir);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Unknown learner 'sarsa'; the learners are q-learning, ucb1 and thompson.", run.Error);
        Assert.False(Directory.Exists(dir));
    }

    [Theory]
    [InlineData("qLearning.epsilon=0.5", "error: unknown setting 'qLearning.epsilon'; did you mean 'qLearning.epsilonStart'?")]
    [InlineData("load.window=wide", "error: 'load.window' must be a whole number, got \"wide\".")]
    public void A_bad_set_is_exit_2_naming_the_setting_and_writes_nothing(string assignment, string message)
    {
        var dir = Path.Combine(Workbench.TempDirectory(), "bad-set");
        var run = Workbench.Run("qlearn", "--set", assignment, "--out", dir);
        Assert.Equal(2, run.ExitCode);
        Assert.Equal(message, run.Error.Trim());
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void A_ucb1_run_writes_a_q_table_that_plot_and_route_read()
    {
        var dir = Path.Combine(Workbench.TempDirectory(), "ucb1");
        var run = Workbench.Run("qlearn", "--learner", "ucb1", "--iterations", "40", "--out", dir);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("base coordinator, ucb1", run.Output);
        Assert.Contains("UCB1 routing", run.Output);
        var plot = Workbench.Run("plot", dir);
        Assert.True(plot.ExitCode == 0, plot.Error);
        var route = Workbench.Run("route", "Write a thread-safe LRU cache", "--type", "coding", "--qtable", Path.Combine(dir, "artifacts", "qtable.json"));
        Assert.True(route.ExitCode == 0, route.Error);
    }
}
