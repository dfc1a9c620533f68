using System.Text.Json.Nodes;

namespace RLWorkbench.Cli.Tests;

public class EnvCommandTests
{
    [Fact]
    public void Replay_of_the_golden_traces_prints_one_line_per_trace_and_exits_0()
    {
        var r = Workbench.Run("env", "replay", RepositoryPaths.GoldenTraces);
        Assert.Equal(0, r.ExitCode);
        var lines = r.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(8, lines.Count(l => l.StartsWith("trace ", StringComparison.Ordinal) && l.EndsWith(": ok", StringComparison.Ordinal)));
        Assert.Contains("All 8 traces replay exactly.", r.Output);
    }

    [Fact]
    public void Replay_exits_1_at_the_first_mismatch_naming_step_field_and_both_values()
    {
        var doc = JsonNode.Parse(File.ReadAllText(RepositoryPaths.GoldenTraces))!;
        var traces = doc["traces"]!.AsArray();
        // Keep two traces; corrupt the second one's reward at step 5.
        while (traces.Count > 2)
            traces.RemoveAt(traces.Count - 1);
        var expected = traces[1]!["steps"]![4]!["reward"]!.GetValue<double>();
        traces[1]!["steps"]![4]!["reward"] = expected + 1;
        var file = Path.Combine(Workbench.TempDirectory(), "bad.json");
        File.WriteAllText(file, doc.ToJsonString());

        var r = Workbench.Run("env", "replay", file);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("trace 1 base/seed67 (4 agents, 200 steps): ok", r.Output);
        Assert.Contains("trace 2 base/seed67 (4 agents, 200 steps): MISMATCH at step 5: reward expected", r.Output);
        Assert.Contains($"got {expected.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}", r.Output);
    }

    [Theory]
    [InlineData("{ not json", "is not valid JSON")]
    [InlineData("{\"format\": \"other/2\", \"traces\": []}", "has format 'other/2'; this workbench reads 'rlworkbench-golden-trace/1'.")]
    [InlineData("{\"format\": \"rlworkbench-golden-trace/1\", \"traces\": [{\"variant\": \"base\", \"layout\": \"seed67\"}]}", "trace 1: the field \"obs_dim\" is missing.")]
    [InlineData("{\"format\": \"rlworkbench-golden-trace/1\", \"traces\": [{\"variant\": \"fancy\", \"layout\": \"seed67\", \"obs_dim\": 67}]}", "unknown variant 'fancy'; allowed: base, pool.")]
    public void A_malformed_trace_file_is_a_usage_error_with_one_sentence(string contents, string message)
    {
        var file = Path.Combine(Workbench.TempDirectory(), "malformed.json");
        File.WriteAllText(file, contents);
        var r = Workbench.Run("env", "replay", file);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Error);
        Assert.DoesNotContain("   at ", r.Error);
    }

    [Fact]
    public void A_missing_trace_file_is_a_usage_error()
    {
        var r = Workbench.Run("env", "replay", "/no/such/traces.json");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("error: Trace file '/no/such/traces.json' does not exist.", r.Error.Trim());
    }

    [Fact]
    public void Run_with_all_ones_scores_near_the_spec_reference_and_writes_a_run()
    {
        var dir = Path.Combine(Workbench.TempDirectory(), "ones");
        var r = Workbench.Run("env", "run", "--policy", "ones", "--episodes", "5", "--seed", "0", "--out", dir);
        Assert.Equal(0, r.ExitCode);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!;
        // The spec's reference model scores about 1435 over 5 episodes; our seeds draw other episodes.
        Assert.InRange(summary["mean"]!.GetValue<double>(), 1350, 1550);
        Assert.Equal(6, File.ReadAllLines(Path.Combine(dir, "episodes.csv")).Length);
        Assert.Contains("\"status\": \"finished\"", File.ReadAllText(Path.Combine(dir, "status.json")));
        Assert.Contains("\"policy\": \"ones\"", File.ReadAllText(Path.Combine(dir, "config.json")));
    }

    [Fact]
    public void Run_with_random_actions_scores_near_the_spec_reference()
    {
        var dir = Path.Combine(Workbench.TempDirectory(), "random");
        var r = Workbench.Run("env", "run", "--policy", "random", "--episodes", "10", "--out", dir);
        Assert.Equal(0, r.ExitCode);
        var mean = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!["mean"]!.GetValue<double>();
        Assert.InRange(mean, 330, 430);
    }

    [Theory]
    [InlineData("greedy", 1534.2883863896272)]
    [InlineData("greedy-full", 1558.9074295428734)]
    public void Run_with_a_greedy_policy_scores_what_the_library_policy_scores_on_the_same_episodes(string policy, double mean)
    {
        // The same ten episodes as GreedyAssignmentPolicyTests in the Simulation tests.
        var dir = Path.Combine(Workbench.TempDirectory(), policy);
        var r = Workbench.Run("env", "run", "--policy", policy, "--episodes", "10", "--seed", "0", "--out", dir);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(mean, JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!["mean"]!.GetValue<double>(), 9);
        Assert.Contains($"\"policy\": \"{policy}\"", File.ReadAllText(Path.Combine(dir, "config.json")));
    }

    [Theory]
    [InlineData(new[] { "env", "run", "--agents", "6" }, "agents must be between 1 and 5, got 6.")]
    [InlineData(new[] { "env", "run", "--layout", "seed99" }, "unknown layout 'seed99'; allowed: seed67, notebook94.")]
    [InlineData(new[] { "env", "run", "--variant", "async" }, "unknown variant 'async'; allowed: base, pool.")]
    [InlineData(new[] { "env", "run", "--policy", "best" }, "unknown policy 'best'; allowed: random, ones, constant, greedy, greedy-full.")]
    [InlineData(new[] { "env", "run", "--policy", "greedy", "--layout", "notebook94" }, "--policy greedy reads each queued task's type from the observation, which only the seed67 layout shows; use --layout seed67.")]
    [InlineData(new[] { "env", "run", "--policy", "constant", "--action", "0.1,0.2" }, "--action has 2 values; this environment takes 1 (for all) or 12 (3 per agent).")]
    [InlineData(new[] { "env", "run", "--policy", "constant", "--action", "NaN" }, "--action value 'NaN' is not a finite number.")]
    [InlineData(new[] { "env", "run", "--episodes", "0" }, "--episodes must be a whole number from 1 to 100,000, got '0'.")]
    [InlineData(new[] { "env", "run", "--frobnicate" }, "Unrecognized command or argument '--frobnicate'.")]
    public void Bad_input_gets_one_sentence_and_exit_code_2(string[] args, string message)
    {
        var r = Workbench.RunIn(Workbench.TempDirectory(), args);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Error);
        Assert.DoesNotContain("   at ", r.Error);
    }

    [Fact]
    public void Help_is_available_on_every_command()
    {
        foreach (var args in new[] { new[] { "--help" }, ["env", "--help"], ["env", "replay", "--help"], ["env", "run", "--help"], ["bench", "env", "--help"] })
        {
            var r = Workbench.Run(args);
            Assert.Equal(0, r.ExitCode);
            Assert.Contains("Usage:", r.Output);
        }
    }
}
