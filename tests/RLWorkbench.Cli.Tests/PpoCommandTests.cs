namespace RLWorkbench.Cli.Tests;

public class PpoCommandTests
{
    [Theory]
    [InlineData(new[] { "ppo", "--steps", "0" }, "error: steps must be between 1 and 10,000,000,000, got 0.")]
    [InlineData(new[] { "ppo", "--set", "ppo.learnRate=1e-4" }, "error: unknown setting 'ppo.learnRate'; did you mean 'ppo.learningRate'?")]
    [InlineData(new[] { "ppo", "--set", "ppo.learningRate=fast" }, "error: 'ppo.learningRate' must be a number, got \"fast\".")]
    [InlineData(new[] { "ppo", "--set", "steps" }, "error: --set takes path=value (for example ppo.learningRate=1e-4), got 'steps'.")]
    [InlineData(new[] { "ppo", "--set", "ppo=1" }, "error: 'ppo' is a group of settings, not one setting")]
    [InlineData(new[] { "ppo", "--envs", "0" }, "envs must be between 1 and 1024, got 0.")]
    [InlineData(new[] { "ppo", "--device", "tpu" }, "unknown device 'tpu'; allowed: cpu, cuda, auto.")]
    [InlineData(new[] { "ppo", "--device", "cuda" }, "--device cuda needs a CUDA build of TorchSharp")]
    [InlineData(new[] { "ppo", "--layout", "seed99" }, "unknown layout 'seed99'; allowed: seed67, notebook94.")]
    [InlineData(new[] { "ppo", "--config", "/no/such/config.json" }, "config file '/no/such/config.json' does not exist")]
    [InlineData(new[] { "ppo", "--resume", "/no/such/checkpoint.bin" }, "checkpoint '/no/such/checkpoint.bin' does not exist")]
    [InlineData(new[] { "eval", "--model", "/no/such/model.bin" }, "model '/no/such/model.bin' does not exist.")]
    public void Bad_input_gets_one_sentence_exit_code_2_and_writes_nothing(string[] args, string message)
    {
        var dir = Workbench.TempDirectory();
        var r = Workbench.RunIn(dir, args);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Error);
        Assert.Single(r.Error.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", r.Error);
        Assert.False(Directory.Exists(Path.Combine(dir, "artifacts")), "a usage error must not create a run");
    }

    [Fact]
    public void A_short_run_resumes_from_its_checkpoint_and_its_model_evaluates()
    {
        var dir = Path.Combine(Workbench.TempDirectory(), "ppo");
        var first = Workbench.Run("ppo", "--steps", "16384", "--seed", "3", "--plain", "--out", dir,
            "--set", "ppo.entropyCoefficient=0", "--set", "finalEvalEpisodes=4", "--set", "milestoneSteps=[8000]", "--set", "milestoneEvalEpisodes=2");
        Assert.True(first.ExitCode == 0, first.Error);
        var saved = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
        Assert.Equal(0, saved["ppo"]!["entropyCoefficient"]!.GetValue<double>());
        Assert.Equal(3, saved["ppo"]!["seed"]!.GetValue<int>());
        // The milestone at 8000 steps (4 environments: first reached at 8000) and the final 4-episode evaluation.
        Assert.Equal(["8000,2", "16384,4"], File.ReadAllLines(Path.Combine(dir, "eval_milestones.csv")).Skip(1).Select(l => string.Join(',', l.Split(',').Take(2))));
        Assert.Contains("over 4 episodes", first.Output);
        Assert.True(File.Exists(Path.Combine(dir, "scores.json")));
        var checkpoint = Path.Combine(dir, "artifacts", "checkpoint.bin");
        Assert.True(File.Exists(checkpoint));
        Assert.Equal(1 + 2, File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Length);

        var resumed = Workbench.Run("ppo", "--resume", checkpoint, "--steps", "24576", "--plain");
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        // The resumed run continues the same curve: one more rollout row, steps 8192, 16384, 24576.
        var steps = File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Skip(1).Select(l => l.Split(',')[0]).ToArray();
        Assert.Equal(["8192", "16384", "24576"], steps);
        Assert.Contains("\"status\": \"finished\"", File.ReadAllText(Path.Combine(dir, "status.json")));
        Assert.True(File.Exists(Path.Combine(dir, "artifacts", "plots", "learning_curve.png")));

        var eval = Workbench.Run("eval", "--model", Path.Combine(dir, "artifacts", "final_model.bin"), "--episodes", "2");
        Assert.True(eval.ExitCode == 0, eval.Error);
        Assert.Contains("completion", eval.Output);
    }
}
