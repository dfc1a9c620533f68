using System.Text.RegularExpressions;

namespace RLWorkbench.Cli.Tests;

public class QlearnLearnerTests
{
    [Fact]
    public void An_unknown_learner_is_exit_2_with_one_sentence_naming_the_learners()
    {
        var dir = Path.Combine(Workbench.TempDirectory(), "sarsa");
        var run = Workbench.Run("qlearn", "--learner", "sarsa", "--out", dir);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Unknown learner 'sarsa'; the learners are q-learning, ucb1, thompson and composed.", run.Error);
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
    public void A_ucb1_run_is_named_by_its_learner_and_prints_its_own_exploration_state_under_a_legend()
    {
        var work = Workbench.TempDirectory();
        var run = Workbench.RunIn(work, "qlearn", "--learner", "ucb1", "--iterations", "12");
        Assert.True(run.ExitCode == 0, run.Error);
        var id = Path.GetFileName(Assert.Single(Directory.GetDirectories(Path.Combine(work, "artifacts", "runs"))));
        Assert.Matches(@"^qlearn-ucb1-\d{8}-\d{6}$", id);
        Assert.Contains("\"kind\": \"qlearn\"", File.ReadAllText(Path.Combine(work, "artifacts", "runs", id, "status.json")));

        Assert.Contains("explore = not the action with the best sample mean; tried k/n = how many of the n actions this state has tried", run.Output);
        Assert.Contains("judge = mean of the judge's four scores", run.Output);
        var lines = run.Output.Split('\n').Where(l => Regex.IsMatch(l, @"^\s*\[\s*\d+/12\]")).ToList();
        Assert.Equal(12, lines.Count);
        Assert.All(lines, l => Assert.DoesNotContain(" eps ", l));
        // After its first iteration a state has tried exactly one action.
        Assert.Contains(" tried 1/8 ", lines[0]);
        Assert.All(lines, l => Assert.Matches(@" tried [1-8]/8 +\| judge \d\.\d\d[ ?] r ", l));
    }

    [Fact]
    public void A_composed_chain_run_prints_its_settings_and_the_components_each_state_has_seen()
    {
        var dir = Path.Combine(Workbench.TempDirectory(), "composed");
        var run = Workbench.Run("qlearn", "--learner", "composed", "--chains", "2", "--iterations", "6", "--out", dir);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("qlearn: base coordinator, composed, 56 chains of up to 2 steps", run.Output);
        Assert.Contains("composed prior sd 1, noise 0.1, exploration 1;", run.Output);
        Assert.Contains("components k/n seen = how many of the n per-step components this state has routed through", run.Output);
        var lines = run.Output.Split('\n').Where(l => Regex.IsMatch(l, @"^\s*\[\s*\d+/6\]")).ToList();
        Assert.Equal(6, lines.Count);
        // 56 chains of up to two steps are 8 first steps and 24 handoffs: 32 components per state.
        Assert.All(lines, l => Assert.Matches(@" components \d+/32 seen \| judge ", l));
        Assert.StartsWith("Composed chain learner routing", File.ReadAllText(Path.Combine(dir, "artifacts", "report.txt")));
        // Route reads the chain run's table and runs the chain it chooses, naming its steps.
        var table = Path.Combine(dir, "artifacts", "composed.json");
        var route = Workbench.Run("route", "Write a thread-safe LRU cache", "--type", "coding", "--qtable", table);
        Assert.True(route.ExitCode == 0, route.Error);
        Assert.Matches(@"\[1\] coding -> ([a-z]+/[a-z]+|[a-z]+/[a-z]+>[a-z]+/[a-z]+ \(2 steps, \$\d\.\d{4}, \d+\.\d\d s\))\n", route.Output);
    }

    [Fact]
    public void Route_runs_the_greedy_chain_of_a_qlearn_chains_run_and_learning_saves_back_only_the_routed_entry()
    {
        var dir = Path.Combine(Workbench.TempDirectory(), "q-chains");
        var run = Workbench.Run("qlearn", "--chains", "2", "--iterations", "40", "--out", dir);
        Assert.True(run.ExitCode == 0, run.Error);
        var table = Path.Combine(dir, "artifacts", "qtable.json");
        var (actions, states, values) = Read(table);
        var coding = Array.IndexOf(states, "coding");
        var greedy = actions[Array.IndexOf(values[coding], values[coding].Max())];
        Assert.Contains('>', greedy);

        var saved = Path.Combine(Workbench.TempDirectory(), "continued.json");
        var learn = Workbench.Run("route", "Write a thread-safe LRU cache", "--type", "coding", "--qtable", table, "--learn", "--save-qtable", saved);
        Assert.True(learn.ExitCode == 0, learn.Error);
        // The chain by its steps, what its two calls cost and took, and the judge's verdict as for a single agent.
        Assert.Matches($@"\[1\] coding -> {Regex.Escape(greedy)} \(2 steps, \$\d\.\d{{4}}, \d+\.\d\d s\), judge quality \d\.\d\d, reward \d\.\d{{3}}, penalty 0\.000\n", learn.Output);
        // Two steps and the judge.
        Assert.Contains("LLM calls 3,", learn.Output);
        var after = Read(saved);
        Assert.Equal(actions, after.Actions);
        var changed = Enumerable.Range(0, states.Length).SelectMany(s => Enumerable.Range(0, actions.Length).Where(a => values[s][a] != after.Values[s][a]).Select(a => $"{states[s]} {actions[a]}"));
        Assert.Equal([$"coding {greedy}"], changed);
    }

    private static (string[] Actions, string[] States, double[][] Values) Read(string file)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
        var root = doc.RootElement;
        return (root.GetProperty("actions").EnumerateArray().Select(e => e.GetString()!).ToArray(),
            root.GetProperty("states").EnumerateArray().Select(e => e.GetString()!).ToArray(),
            root.GetProperty("values").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray());
    }

    [Fact]
    public void A_single_step_composed_run_writes_a_table_that_plot_reads_and_route_continues_with_the_composed_learner()
    {
        var dir = Path.Combine(Workbench.TempDirectory(), "composed-single");
        var run = Workbench.Run("qlearn", "--learner", "composed", "--iterations", "30", "--out", dir);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.False(File.Exists(Path.Combine(dir, "artifacts", "qtable.json")));
        var plot = Workbench.Run("plot", dir);
        Assert.True(plot.ExitCode == 0, plot.Error);
        Assert.True(File.Exists(Path.Combine(dir, "artifacts", "plots", "qtable.png")), plot.Output + plot.Error);
        var table = Path.Combine(dir, "artifacts", "composed.json");
        var saved = Path.Combine(Workbench.TempDirectory(), "continued.json");
        var learn = Workbench.Run("route", "Write a thread-safe LRU cache", "--type", "coding", "--qtable", table, "--learn", "--repeat", "3", "--save-qtable", saved);
        Assert.True(learn.ExitCode == 0, learn.Error);
        // The table keeps the whole posterior, so --learn continues it: three more pulls in "coding", still the composed learner.
        long Pulls(string file, string state)
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
            var states = doc.RootElement.GetProperty("states").EnumerateArray().Select(e => e.GetString()).ToList();
            Assert.Equal("composed", doc.RootElement.GetProperty("algorithm").GetString());
            return doc.RootElement.GetProperty("posterior").GetProperty("statePulls")[states.IndexOf(state)].GetInt64();
        }
        Assert.Equal(Pulls(table, "coding") + 3, Pulls(saved, "coding"));
    }

    [Fact]
    public void A_q_learning_run_prints_the_epsilon_each_decision_used()
    {
        var dir = Path.Combine(Workbench.TempDirectory(), "q");
        var run = Workbench.Run("qlearn", "--iterations", "3", "--out", dir);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("explore = a random action (probability eps, the epsilon this decision used), greedy = the best Q-value", run.Output);
        var lines = run.Output.Split('\n').Where(l => Regex.IsMatch(l, @"^\s*\[\s*\d+/3\]")).ToList();
        Assert.Equal([" eps 1.000 ", " eps 0.970 ", " eps 0.941 "], lines.Select(l => Regex.Match(l, @" eps \d\.\d{3} ").Value));
    }

    [Fact]
    public void A_ucb1_run_writes_a_bandit_table_that_plot_reads_and_route_continues_with_ucb1()
    {
        var dir = Path.Combine(Workbench.TempDirectory(), "ucb1");
        var run = Workbench.Run("qlearn", "--learner", "ucb1", "--iterations", "40", "--out", dir);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("base coordinator, ucb1", run.Output);
        Assert.Contains("UCB1 routing", run.Output);
        Assert.False(File.Exists(Path.Combine(dir, "artifacts", "qtable.json")));
        var plot = Workbench.Run("plot", dir);
        Assert.True(plot.ExitCode == 0, plot.Error);
        Assert.True(File.Exists(Path.Combine(dir, "artifacts", "plots", "qtable.png")), plot.Output + plot.Error);
        var table = Path.Combine(dir, "artifacts", "bandit.json");
        var route = Workbench.Run("route", "Write a thread-safe LRU cache", "--type", "coding", "--qtable", table);
        Assert.True(route.ExitCode == 0, route.Error);
        // The table keeps the bandit's counts, so --learn continues the same UCB1 statistics: three more pulls in "coding".
        var saved = Path.Combine(Workbench.TempDirectory(), "continued.json");
        var learn = Workbench.Run("route", "Write a thread-safe LRU cache", "--type", "coding", "--qtable", table, "--learn", "--repeat", "3", "--save-qtable", saved);
        Assert.True(learn.ExitCode == 0, learn.Error);
        long Pulls(string file, string state)
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
            var states = doc.RootElement.GetProperty("states").EnumerateArray().Select(e => e.GetString()).ToList();
            Assert.Equal("ucb1", doc.RootElement.GetProperty("algorithm").GetString());
            return doc.RootElement.GetProperty("counts")[states.IndexOf(state)].EnumerateArray().Sum(e => e.GetInt64());
        }
        Assert.Equal(Pulls(table, "coding") + 3, Pulls(saved, "coding"));
    }

    [Fact]
    public void Qlearn_chains_takes_a_longest_length_or_the_allowed_chains_and_names_them_in_its_rows()
    {
        var dir = Path.Combine(Workbench.TempDirectory(), "chains");
        var run = Workbench.Run("qlearn", "--chains", "researcher/openai>validator/anthropic, coder/openai", "--iterations", "6", "--out", dir);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("q-learning, 2 chains of up to 2 steps", run.Output);
        var config = File.ReadAllText(Path.Combine(dir, "config.json"));
        using (var doc = System.Text.Json.JsonDocument.Parse(config))
        {
            var chains = doc.RootElement.GetProperty("chains");
            Assert.Equal(2, chains.GetProperty("maxLength").GetInt32());
            Assert.Equal(["researcher/openai>validator/anthropic", "coder/openai"], chains.GetProperty("allowed").EnumerateArray().Select(e => e.GetString() ?? "").ToArray());
        }
        Assert.DoesNotContain("routesChains", config);
        var agents = File.ReadAllLines(Path.Combine(dir, "iterations.csv")).Skip(1).Select(l => l.Split(',')[6] + " " + l.Split(',')[7]).ToHashSet();
        Assert.Subset(new HashSet<string> { "researcher>validator openai>anthropic", "coder openai" }, agents);
        Assert.Equal(6, File.ReadAllLines(Path.Combine(dir, "iterations.csv")).Length - 1);

        var longest = Path.Combine(Workbench.TempDirectory(), "chains3");
        run = Workbench.Run("qlearn", "--chains", "3", "--iterations", "4", "--out", longest);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("248 chains of up to 3 steps", run.Output);
    }
}
