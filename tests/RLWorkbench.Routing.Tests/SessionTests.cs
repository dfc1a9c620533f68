using System.Text.Json;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Routing.Tests;

internal sealed class CollectingProgress(Action<IterationResult>? onIteration = null) : IQlearnProgress
{
    public List<IterationResult> Results { get; } = [];

    public List<string> Notices { get; } = [];

    public RunPlan? Plan { get; private set; }

    public void Started(QlearnOptions options, string runDirectory, int firstIteration, int total, RunPlan plan) => Plan = plan;

    public void Iteration(IterationResult result, Learning.QLearningCoordinator coordinator, int total, double totalCostUsd)
    {
        lock (Results)
            Results.Add(result);
        onIteration?.Invoke(result);
    }

    public void Notice(string message)
    {
        lock (Notices)
            Notices.Add(message);
    }
}

public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("rlw-routing-").FullName;

    public string this[string name] => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

public class SessionTests
{
    private static async Task<QlearnResult> Run(QlearnOptions options, string outDir, IQlearnProgress? progress = null, string? resume = null, CancellationToken ct = default) =>
        await QlearnSession.RunAsync(new QlearnRequest { Options = options, OutDirectory = resume is null ? outDir : null, ResumeDirectory = resume, RunsRoot = outDir + "-root" }, progress ?? new CollectingProgress(), ct);

    [Fact]
    public async Task Simulated_base_run_writes_the_run_directory_the_docs_describe()
    {
        using var tmp = new TempDir();
        var result = await Run(new QlearnOptions(), tmp["run"]);
        Assert.Equal(StopReason.Completed, result.Outcome.Reason);
        var lines = File.ReadAllLines(tmp["run/iterations.csv"]);
        Assert.Equal(string.Join(',', QlearnSession.IterationColumns), lines[0]);
        Assert.Equal(
            "iteration,task_id,task_type,state,load_state,action,agent,provider,relevance,accuracy,completeness,agent_match,quality,raw_reward,penalty,adjusted_reward,input_tokens,output_tokens,latency_s,cost_usd,judge_cost_usd,epsilon,util_researcher,util_analyst,util_coder,util_validator,imbalance,parse_failure,fairness",
            lines[0]);
        Assert.Equal(31, lines.Length);
        Assert.Equal(60, File.ReadAllLines(tmp["run/artifacts/calls.jsonl"]).Length);
        foreach (var f in new[] { "config.json", "status.json", "summary.json", "artifacts/qtable.json", "artifacts/qtable.csv", "artifacts/report.txt", "artifacts/checkpoint.json" })
            Assert.True(File.Exists(tmp["run/" + f]), f);
        Assert.Contains("\"status\": \"finished\"", File.ReadAllText(tmp["run/status.json"]));
        Assert.Equal(30, result.Report.Summary.Iterations);
        Assert.Equal(60, result.Report.Summary.Calls.TotalCalls);
        var rows = IterationRow.ReadCsv(tmp["run/iterations.csv"]).ToArray();
        Assert.Equal(Enumerable.Range(1, 30), rows.Select(r => r.Iteration));
        Assert.All(rows, r => Assert.Equal(0.0, r.Penalty));
        Assert.All(rows, r => Assert.Equal(r.RawReward, r.AdjustedReward));
        // The epsilon each decision used follows 1.0 x 0.97^i.
        Assert.All(rows, r => Assert.Equal(Math.Pow(0.97, r.Iteration - 1), r.Epsilon, 12));
        Assert.Equal(Math.Pow(0.97, 30), result.Report.Summary.FinalEpsilon, 12);
        Assert.Equal(result.Report.Summary.JudgeParseFailures, rows.Count(r => r.ParseFailure));
        var qtable = QTableFile(tmp["run/artifacts/qtable.json"]);
        Assert.Equal(["analysis", "coding", "research", "validation"], qtable.States);
    }

    private static Learning.QTable QTableFile(string path) => Learning.QTable.Load(path);

    [Fact]
    public async Task Same_seed_gives_the_same_run_and_another_seed_does_not()
    {
        using var tmp = new TempDir();
        await Run(new QlearnOptions { Seed = 7 }, tmp["a"]);
        await Run(new QlearnOptions { Seed = 7 }, tmp["b"]);
        await Run(new QlearnOptions { Seed = 8 }, tmp["c"]);
        Assert.Equal(File.ReadAllText(tmp["a/iterations.csv"]), File.ReadAllText(tmp["b/iterations.csv"]));
        Assert.Equal(File.ReadAllText(tmp["a/artifacts/qtable.csv"]), File.ReadAllText(tmp["b/artifacts/qtable.csv"]));
        Assert.NotEqual(File.ReadAllText(tmp["a/iterations.csv"]), File.ReadAllText(tmp["c/iterations.csv"]));
    }

    [Fact]
    public async Task Load_balanced_run_applies_the_penalty_and_reports_load_states()
    {
        using var tmp = new TempDir();
        var result = await Run(new QlearnOptions { Learner = "load-balanced" }, tmp["run"]);
        var rows = IterationRow.ReadCsv(tmp["run/iterations.csv"]).ToArray();
        Assert.Equal(50, rows.Length);
        Assert.All(rows, r => Assert.Equal(Math.Max(0, r.RawReward - r.Penalty), r.AdjustedReward, 12));
        Assert.All(rows, r => Assert.Equal($"{r.TaskType}|{r.LoadState}", r.State));
        Assert.Contains(rows, r => r.Penalty > 0);
        Assert.Equal(Math.Pow(0.98, 50), result.Report.Summary.FinalEpsilon, 12);
        Assert.Equal(50, result.Report.Summary.LoadStateCounts.Values.Sum());
        Assert.Equal(20, Learning.QTable.Load(tmp["run/artifacts/qtable.json"]).States.Count);
        Assert.Contains("* marks a shift", result.Report.Text);
    }

    [Fact]
    public async Task The_judge_call_cost_is_logged_but_not_part_of_the_reward()
    {
        using var tmp = new TempDir();
        var result = await Run(new QlearnOptions { Iterations = 5 }, tmp["run"]);
        var reward = new CompositeReward(new RewardOptions());
        var rows = IterationRow.ReadCsv(tmp["run/iterations.csv"]).ToArray();
        Assert.Equal([1, 2, 3, 4, 5], rows.Select(r => r.Iteration));
        foreach (var r in rows)
        {
            Assert.True(r.JudgeCostUsd > 0);
            var verdict = new JudgeVerdict(r.Relevance, r.Accuracy, r.Completeness, r.AgentMatch, "", r.ParseFailure);
            Assert.Equal(reward.Compute(verdict, r.CostUsd, r.LatencySeconds), r.RawReward, 12);
        }
    }

    [Fact]
    public async Task Budget_stops_before_an_iteration_that_could_pass_it()
    {
        using var tmp = new TempDir();
        var result = await Run(new QlearnOptions { BudgetUsd = 0.01 }, tmp["run"]);
        Assert.Equal(StopReason.Budget, result.Outcome.Reason);
        Assert.InRange(result.Report.Summary.Calls.TotalCostUsd, 0.0001, 0.01);
        Assert.InRange(result.Outcome.IterationsDone, 1, 29);
        Assert.Equal(2 * result.Outcome.IterationsDone, result.Report.Summary.Calls.TotalCalls);
        Assert.Contains("budget", File.ReadAllText(tmp["run/status.json"]));
    }

    [Fact]
    public async Task Cancelled_run_saves_everything_and_resume_finishes_it_exactly_like_an_uninterrupted_run()
    {
        using var tmp = new TempDir();
        await Run(new QlearnOptions { Learner = "load-balanced", Iterations = 20 }, tmp["whole"]);

        using var cts = new CancellationTokenSource();
        var stopped = await Run(new QlearnOptions { Learner = "load-balanced", Iterations = 20 }, tmp["part"],
            new CollectingProgress(r => { if (r.Iteration == 7) cts.Cancel(); }), ct: cts.Token);
        Assert.Equal(StopReason.Cancelled, stopped.Outcome.Reason);
        Assert.Equal(8, stopped.Outcome.IterationsDone);
        Assert.Contains("\"status\": \"killed\"", File.ReadAllText(tmp["part/status.json"]));
        Assert.Equal(9, File.ReadAllLines(tmp["part/iterations.csv"]).Length);
        Assert.True(File.Exists(tmp["part/artifacts/qtable.json"]));

        var resumed = await Run(new QlearnOptions(), tmp["unused"], resume: tmp["part"]);
        Assert.Equal(StopReason.Completed, resumed.Outcome.Reason);
        Assert.Equal(File.ReadAllText(tmp["whole/iterations.csv"]), File.ReadAllText(tmp["part/iterations.csv"]));
        Assert.Equal(File.ReadAllText(tmp["whole/artifacts/qtable.csv"]), File.ReadAllText(tmp["part/artifacts/qtable.csv"]));
        Assert.Equal(40, resumed.Report.Summary.Calls.TotalCalls);
        Assert.Contains("\"status\": \"finished\"", File.ReadAllText(tmp["part/status.json"]));
    }

    [Fact]
    public async Task Ctrl_c_inside_an_iteration_saves_the_checkpoint_of_the_last_finished_one_so_resume_is_identical()
    {
        using var tmp = new TempDir();
        var options = new QlearnOptions { Iterations = 30, SimulatedCallSeconds = 0.001 };
        await Run(options, tmp["whole"]);

        // Stopped during the judge call of iteration 9 (the 18th call): its task and action are drawn, its agent call made.
        using var cts = new CancellationTokenSource();
        var calls = 0;
        var host = new QlearnHost
        {
            SimulatedCallWait = (_, ct) =>
            {
                if (Interlocked.Increment(ref calls) == 18)
                    cts.Cancel();
                ct.ThrowIfCancellationRequested();
                return Task.CompletedTask;
            },
        };
        var resolved = options.Resolve();
        using (var run = Tracking.RunStore.CreateAt(tmp["part"], QlearnSession.Kind))
        {
            var stopped = await QlearnSession.RunAsync(run, resolved, QlearnSession.Prepare(resolved, _ => null), host, new CollectingProgress(), cts.Token);
            Assert.Equal((StopReason.Cancelled, 8), (stopped.Outcome.Reason, stopped.Outcome.IterationsDone));
        }
        Assert.Equal(8, QlearnSession.IterationsDone(tmp["part"]));

        var resumed = await Run(new QlearnOptions(), tmp["unused"], resume: tmp["part"]);
        Assert.Equal(File.ReadAllText(tmp["whole/iterations.csv"]), File.ReadAllText(tmp["part/iterations.csv"]));
        Assert.Equal(File.ReadAllText(tmp["whole/artifacts/qtable.csv"]), File.ReadAllText(tmp["part/artifacts/qtable.csv"]));
        // Iteration 9's agent call was made before the stop: it stays on the record, and the report says why there are 61.
        Assert.Equal((61, 1), (resumed.Report.Summary.Calls.TotalCalls, resumed.Report.Summary.Calls.RepeatedCalls));
        Assert.Contains("Calls 61,", resumed.Report.Text);
        Assert.Contains("  1 of them made by iterations that were stopped part-way and run again on resume", resumed.Report.Text);
    }

    [Fact]
    public async Task A_recorded_cassette_replays_the_same_run_without_the_backend()
    {
        using var tmp = new TempDir();
        await Run(new QlearnOptions { Iterations = 12, Record = tmp["tape.jsonl"] }, tmp["recorded"]);
        Assert.Equal(24, File.ReadAllLines(tmp["tape.jsonl"]).Length);
        var replayed = await Run(new QlearnOptions { Iterations = 12, Replay = tmp["tape.jsonl"] }, tmp["replayed"]);
        Assert.Equal("replay", replayed.Report.Summary.Backend);
        Assert.Equal(File.ReadAllText(tmp["recorded/iterations.csv"]), File.ReadAllText(tmp["replayed/iterations.csv"]));
    }

    [Fact]
    public async Task A_cassette_that_runs_out_is_a_usage_error()
    {
        using var tmp = new TempDir();
        await Run(new QlearnOptions { Iterations = 3, Record = tmp["tape.jsonl"] }, tmp["recorded"]);
        var tooShort = await Assert.ThrowsAsync<RoutingInputException>(() => Run(new QlearnOptions { Iterations = 5, Replay = tmp["tape.jsonl"] }, tmp["r1"]));
        Assert.Equal($"The cassette {tmp["tape.jsonl"]} holds 6 exchanges; 5 iterations need at least 10.", tooShort.Message);
        Assert.False(Directory.Exists(tmp["r1"]));
        var otherSeed = await Assert.ThrowsAsync<RoutingInputException>(() => Run(new QlearnOptions { Iterations = 3, Seed = 99, Replay = tmp["tape.jsonl"] }, tmp["r2"]));
        Assert.Contains("has no recorded", otherSeed.Message);
        Assert.Contains("\"status\": \"failed\"", File.ReadAllText(tmp["r2/status.json"]));
    }

    [Fact]
    public async Task Overlapping_iterations_apply_every_update()
    {
        using var tmp = new TempDir();
        var progress = new CollectingProgress();
        var result = await Run(new QlearnOptions { Iterations = 16, Concurrency = 4, SimulatedCallSeconds = 0.01 }, tmp["run"], progress);
        Assert.Equal(16, result.Outcome.IterationsDone);
        Assert.Equal(Enumerable.Range(1, 16), IterationRow.ReadCsv(tmp["run/iterations.csv"]).Select(r => r.Iteration).Order());
        Assert.Equal(Math.Pow(0.97, 16), result.Report.Summary.FinalEpsilon, 12);
        Assert.Equal(32, result.Report.Summary.Calls.TotalCalls);
    }

    [Theory]
    [InlineData(0, null, null, "'iterations' must be a whole number from 1 to 1,000,000, got 0.")]
    [InlineData(-3, null, null, "'iterations' must be a whole number from 1 to 1,000,000, got -3.")]
    [InlineData(null, -1.0, null, "'budgetUsd' must be a number from 0 to 1,000,000, got -1.")]
    [InlineData(null, null, "sarsa", "Unknown learner 'sarsa'; the learners are base and load-balanced.")]
    public async Task Bad_settings_are_refused_before_anything_is_written(int? iterations, double? budget, string? learner, string message)
    {
        using var tmp = new TempDir();
        var options = new QlearnOptions { Iterations = iterations, BudgetUsd = budget, Learner = learner ?? "base" };
        var e = await Assert.ThrowsAsync<RoutingInputException>(() => Run(options, tmp["run"]));
        Assert.Equal(message, e.Message);
        Assert.False(Directory.Exists(tmp["run"]));
    }

    [Fact]
    public async Task Malformed_profile_is_refused_with_its_name()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp["p.json"], "{\"providers\": {}, \"scores\": [");
        var e = await Assert.ThrowsAsync<RoutingInputException>(() => Run(new QlearnOptions { Profile = tmp["p.json"] }, tmp["run"]));
        Assert.StartsWith($"The simulation profile {tmp["p.json"]} is not valid JSON", e.Message);
        File.WriteAllText(tmp["p.json"], "{\"providers\": {}, \"scores\": []}");
        e = await Assert.ThrowsAsync<RoutingInputException>(() => Run(new QlearnOptions { Profile = tmp["p.json"] }, tmp["run"]));
        Assert.Equal($"The simulation profile {tmp["p.json"]} does not describe provider 'openai'.", e.Message);
        Assert.False(Directory.Exists(tmp["run"]));
    }

    [Fact]
    public void Default_profile_has_a_known_best_routing_that_is_one_role_per_type()
    {
        var best = SimulationProfile.Default.ExpectedRewards(TaskBank.Default, PriceTable.Default, new RewardOptions(),
            new Dictionary<Provider, string> { [Provider.OpenAI] = "gpt-4o-mini", [Provider.Anthropic] = "claude-3-5-haiku-latest" });
        string BestOf(TaskType t) => RoutingAction.FromIndex(Array.IndexOf(best[t], best[t].Max())).Label;
        Assert.Equal("analyst/anthropic", BestOf(TaskType.Analysis));
        Assert.Equal("coder/anthropic", BestOf(TaskType.Coding));
        Assert.Equal("researcher/openai", BestOf(TaskType.Research));
        Assert.Equal("validator/openai", BestOf(TaskType.Validation));
        // The margin is wide enough for a short run to find it: at least 0.04 over the runner-up in every type.
        foreach (var t in RoutingNames.TaskTypes)
        {
            var sorted = best[t].OrderDescending().ToArray();
            Assert.True(sorted[0] - sorted[1] >= 0.04, $"{t}: {sorted[0]} vs {sorted[1]}");
        }
    }

    [Fact]
    public async Task Simulated_judge_answers_go_through_the_strict_parser()
    {
        var profile = SimulationProfile.Default;
        var client = new SimulatedChatClient(Provider.OpenAI, profile, seed: 1, TimeSpan.Zero);
        var failures = 0;
        for (var i = 0; i < 400; i++)
        {
            var ctx = new CallContext(i, CallPurpose.Judge, Provider.OpenAI, AgentRole.Coder, TaskType.Coding, "c1", Provider.Anthropic);
            var response = await client.GetResponseAsync([new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.User, "judge this")], ctx.Attach(new()));
            var v = JudgePrompt.Parse(response.Text);
            if (v.ParseFailure)
                failures++;
            else
                Assert.InRange(v.Quality, 0.5, 1.0);
        }
        // 3% malformed answers by design: 12 expected of 400.
        Assert.InRange(failures, 4, 24);
    }
}

public class SettingsFileTests
{
    private static string Experiments(string name)
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "RLWorkbench.sln")))
            dir = Path.GetDirectoryName(dir)!;
        return Path.Combine(dir, "experiments", name);
    }

    [Fact]
    public void Shipped_settings_files_resolve_to_the_seed_defaults()
    {
        var b = QlearnOptions.FromFile(Experiments("qlearn.json")).Resolve();
        Assert.Equal(new QlearnOptions().Resolve() with { Providers = b.Providers }, b with { Providers = b.Providers });
        Assert.Equal((30, 0.97, "gpt-4o-mini", "claude-3-5-haiku-latest"), (b.Iterations, b.QLearning!.EpsilonDecay, b.Providers["openai"].Model, b.Providers["anthropic"].Model));
        var lb = QlearnOptions.FromFile(Experiments("qlearn-load-balanced.json")).Resolve();
        Assert.Equal(("load-balanced", 50, 0.98), (lb.Learner, lb.Iterations, lb.QLearning!.EpsilonDecay));
        var local = QlearnOptions.FromFile(Experiments("qlearn-local-openai-compatible.json")).Resolve();
        Assert.Equal("http://localhost:11434/v1", local.Providers["openai"].BaseUrl);
    }

    [Fact]
    public void A_typo_in_a_settings_file_is_an_error_not_a_silent_default()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp["s.json"], "{\"learnr\": \"base\"}");
        var e = Assert.Throws<RoutingInputException>(() => QlearnOptions.FromFile(tmp["s.json"]));
        Assert.Contains("'learnr'", e.Message);
        File.WriteAllText(tmp["s.json"], "{\"providers\": {\"gemini\": {\"model\": \"g\"}}}");
        Assert.Equal("Unknown provider 'gemini'; the providers are openai, anthropic.", Assert.Throws<RoutingInputException>(() => QlearnOptions.FromFile(tmp["s.json"]).Resolve()).Message);
    }
}
