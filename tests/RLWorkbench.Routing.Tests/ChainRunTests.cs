using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Workflow;
using RLWorkbench.Routing.Learning;

namespace RLWorkbench.Routing.Tests;

/// <summary>`qlearn --chains`: routing over the enumerated chain set, every call of a chain counted, failures and stops part-way.</summary>
public class ChainRunTests
{
    /// <summary>Two three-step chains: every iteration is exactly four calls (three steps and the judge).</summary>
    private static readonly ChainOptions TwoLongChains = new()
    {
        MaxLength = 3,
        Allowed = ["researcher/openai>analyst/anthropic>validator/openai", "coder/anthropic>analyst/openai>validator/anthropic"],
    };

    private static async Task<QlearnResult> Run(QlearnOptions options, string outDir, IQlearnProgress? progress = null, string? resume = null, CancellationToken ct = default) =>
        await QlearnSession.RunAsync(new QlearnRequest { Options = options, OutDirectory = resume is null ? outDir : null, ResumeDirectory = resume, RunsRoot = outDir + "-root" }, progress ?? new CollectingProgress(), ct);

    private static async Task<QlearnResult> RunWith(QlearnOptions options, string outDir, QlearnHost host, IQlearnProgress progress, CancellationToken ct = default)
    {
        var resolved = options.Resolve();
        using var run = Tracking.RunStore.CreateAt(outDir, QlearnSession.Kind);
        return await QlearnSession.RunAsync(run, resolved, QlearnSession.Prepare(resolved, _ => null), host, progress, ct);
    }

    [Fact]
    public async Task A_chain_run_routes_the_enumerated_chains_names_them_in_its_rows_and_counts_every_call()
    {
        using var tmp = new TempDir();
        var progress = new CollectingProgress();
        var result = await Run(new QlearnOptions { Iterations = 20, Chains = new ChainOptions { MaxLength = 2 } }, tmp["run"], progress);
        Assert.Equal(StopReason.Completed, result.Outcome.Reason);
        var rows = IterationRow.ReadCsv(tmp["run/iterations.csv"]).ToArray();
        Assert.Equal(20, rows.Length);
        var chains = new ChainOptions { MaxLength = 2 }.Enumerate();
        Assert.Equal(56, chains.Count);
        foreach (var row in rows)
        {
            // agent "coder>researcher" and provider "anthropic>openai" spell out chain number `action`.
            var agents = row.Agent.Split('>');
            var providers = row.Provider.Split('>');
            Assert.Equal(chains[row.Action].Label, string.Join('>', agents.Zip(providers, (a, p) => $"{a}/{p}")));
        }
        Assert.Contains(rows, r => r.Agent.Contains('>'));
        // Every step is a call, and the judge's: no call is mistaken for a repeat of another of its iteration.
        var calls = rows.Sum(r => r.Agent.Split('>').Length + 1);
        Assert.Equal((calls, 0), (result.Report.Summary.Calls.TotalCalls, result.Report.Summary.Calls.RepeatedCalls));
        Assert.Equal(result.Report.Summary.Calls.TotalCostUsd, rows.Sum(r => r.CostUsd + r.JudgeCostUsd), 12);
        // The plan averages the calls over the chains on offer: (8 x 2 + 48 x 3) / 56 per iteration.
        Assert.Equal((int)Math.Round(20 * 160 / 56.0), progress.Plan!.ExpectedCalls);
        Assert.Contains("chains routed to", result.Report.Text);
        // A chain's row counts for each of its agents in the per-agent table.
        Assert.Equal(rows.Sum(r => r.Agent.Split('>').Length), result.Report.Summary.Agents.Sum(a => a.Tasks));
        Assert.Contains("\"maxLength\": 2", File.ReadAllText(tmp["run/config.json"]));
    }

    [Fact]
    public async Task The_budget_reserves_a_chain_s_every_call_and_the_plan_s_worst_case_is_the_dearest_chain()
    {
        using var tmp = new TempDir();
        var options = new QlearnOptions { Iterations = 10, Chains = TwoLongChains }.Resolve();
        var settings = options.ProviderSettings();
        var worst = TaskBank.Default.Tasks.Max(t => options.ChainList().Max(c =>
            RoutedTaskExecutor.WorstCase(t, c, p => settings[p], settings[Provider.OpenAI], PriceTable.Default, options.JudgeOutputChars).Total));
        var plan = QlearnSession.Plan(options, TaskBank.Default, PriceTable.Default, 10);
        Assert.Equal(worst * 10, plan.WorstCaseCostUsd, 15);
        Assert.Equal(40, plan.ExpectedCalls);

        // A cap that fits the first iterations' worst cases but not all ten stops before an iteration, never past the cap.
        var result = await Run(options with { BudgetUsd = 3.5 * worst }, tmp["run"]);
        Assert.Equal(StopReason.Budget, result.Outcome.Reason);
        Assert.StartsWith($"stopped before iteration {result.Outcome.IterationsDone + 1}: its worst case", result.Outcome.Message);
        Assert.True(result.Report.Summary.Calls.TotalCostUsd <= 3.5 * worst);
        Assert.Equal(4 * result.Outcome.IterationsDone, result.Report.Summary.Calls.TotalCalls);
    }

    [Fact]
    public async Task A_cassette_too_short_for_the_chains_on_offer_is_refused_before_the_run()
    {
        using var tmp = new TempDir();
        // Three-step chains only: 4 exchanges an iteration, so 3 recorded iterations (12) cannot serve 4 (16), though they would serve 6 single steps.
        await Run(new QlearnOptions { Iterations = 3, Chains = TwoLongChains, Record = tmp["tape.jsonl"], SimulatedCallSeconds = 0.001 }, tmp["recorded"]);
        Assert.Equal(12, File.ReadAllLines(tmp["tape.jsonl"]).Length);
        var tooShort = await Assert.ThrowsAsync<RoutingInputException>(() => Run(new QlearnOptions { Iterations = 4, Chains = TwoLongChains, Replay = tmp["tape.jsonl"] }, tmp["r1"]));
        Assert.Equal($"The cassette {tmp["tape.jsonl"]} holds 12 exchanges; 4 iterations need at least 16.", tooShort.Message);
        Assert.False(Directory.Exists(tmp["r1"]));
    }

    [Theory]
    [InlineData(RoutingAlgorithms.QLearning, "qtable.csv")]
    [InlineData(RoutingAlgorithms.Composed, "composed.json")]
    public async Task Ctrl_c_inside_a_chain_then_resume_gives_the_rows_and_table_of_an_uninterrupted_run(string algorithm, string table)
    {
        using var tmp = new TempDir();
        var options = new QlearnOptions { Algorithm = algorithm, Iterations = 12, Chains = TwoLongChains, SimulatedCallSeconds = 0.001 };
        await Run(options, tmp["whole"]);

        // Stopped in the second step of iteration 8 (its 30th call): the first step has answered, the rest is never sent.
        using var cts = new CancellationTokenSource();
        var calls = 0;
        var host = new QlearnHost
        {
            SimulatedCallWait = (_, ct) =>
            {
                if (Interlocked.Increment(ref calls) == 30)
                    cts.Cancel();
                ct.ThrowIfCancellationRequested();
                return Task.CompletedTask;
            },
        };
        var stopped = await RunWith(options, tmp["part"], host, new CollectingProgress(), cts.Token);
        Assert.Equal((StopReason.Cancelled, 7), (stopped.Outcome.Reason, stopped.Outcome.IterationsDone));

        var resumed = await Run(new QlearnOptions(), tmp["unused"], resume: tmp["part"]);
        Assert.Equal(StopReason.Completed, resumed.Outcome.Reason);
        Assert.Equal(File.ReadAllText(tmp["whole/iterations.csv"]), File.ReadAllText(tmp["part/iterations.csv"]));
        Assert.Equal(File.ReadAllText(tmp[$"whole/artifacts/{table}"]), File.ReadAllText(tmp[$"part/artifacts/{table}"]));
        // The step that answered before the stop was sent, so it stays on the record and counts.
        Assert.Equal((4 * 12 + 1, 1), (resumed.Report.Summary.Calls.TotalCalls, resumed.Report.Summary.Calls.RepeatedCalls));
    }

    [Fact]
    public async Task A_provider_failure_part_way_through_a_chain_records_its_calls_and_counts_the_task_as_failed()
    {
        using var tmp = new TempDir();
        // The second step of iteration 3 (call 10) fails as a provider that is down would, after its retries.
        QlearnHost FailingAt(int call)
        {
            var calls = 0;
            return new QlearnHost
            {
                SimulatedCallWait = (_, _) => Interlocked.Increment(ref calls) == call
                    ? throw new ProviderCallException(Provider.Anthropic, ProviderFailure.ServerError, "anthropic answered 503 three times.")
                    : Task.CompletedTask,
            };
        }
        var progress = new CollectingProgress();
        var result = await RunWith(new QlearnOptions { Iterations = 6, Chains = TwoLongChains, SimulatedCallSeconds = 0.001 }, tmp["run"], FailingAt(10), progress);
        Assert.Equal((StopReason.Completed, 6), (result.Outcome.Reason, result.Outcome.IterationsDone));
        var rows = IterationRow.ReadCsv(tmp["run/iterations.csv"]).ToArray();
        Assert.Equal(6, rows.Length);
        var failed = rows[2];
        Assert.Equal((0.0, true), (failed.RawReward, failed.ParseFailure));
        Assert.Equal(0.0, failed.JudgeCostUsd);
        // Its first step answered and was billed; the task's three other calls were never made.
        var log = CallLog.Read(tmp["run/artifacts/calls.jsonl"], _ => { }).ToArray();
        var third = log.Where(c => c.Iteration == 3).ToArray();
        Assert.Single(third);
        Assert.Equal(third[0].CostUsd, failed.CostUsd);
        Assert.True(failed.CostUsd > 0);
        Assert.Equal(5 * 4 + 1, log.Length);
        Assert.Contains(progress.Notices, n => n.StartsWith("iteration 3: The chain '", StringComparison.Ordinal) && n.Contains("failed at step 2") && n.Contains("counts as failed (1 of at most 5 failed calls)"));
        // The user got nothing for it: Q-learning learns a reward of 0 (an update, so epsilon decays once more, by 0.97).
        var failedResult = progress.Results.Single(r => r.Iteration == 2);
        Assert.Equal(0.0, failedResult.Update.AdjustedReward);
        Assert.Equal(progress.Results.Single(r => r.Iteration == 1).Update.EpsilonAfter * 0.97, failedResult.Update.EpsilonAfter, 15);

        // Past maxFailedCalls the run stops as with a provider down, keeping what it did.
        var stopped = await RunWith(new QlearnOptions { Iterations = 6, Chains = TwoLongChains, MaxFailedCalls = 0, SimulatedCallSeconds = 0.001 }, tmp["strict"], FailingAt(10), new CollectingProgress());
        Assert.Equal((StopReason.ProviderDown, 2), (stopped.Outcome.Reason, stopped.Outcome.IterationsDone));
        Assert.Contains("1 calls failed, more than the 0 allowed (maxFailedCalls)", stopped.Outcome.Message);
    }

    [Fact]
    public async Task A_chain_that_failed_part_way_scores_no_quality_and_is_reported_as_a_failed_task_not_a_judge_parse_failure()
    {
        using var tmp = new TempDir();
        // The second step of iteration 3 (call 10) fails; nothing was judged, so there is no quality to record.
        var calls = 0;
        var host = new QlearnHost
        {
            SimulatedCallWait = (_, _) => Interlocked.Increment(ref calls) == 10
                ? throw new ProviderCallException(Provider.Anthropic, ProviderFailure.ServerError, "anthropic answered 503 three times.")
                : Task.CompletedTask,
        };
        var result = await RunWith(new QlearnOptions { Iterations = 6, Chains = TwoLongChains, SimulatedCallSeconds = 0.001 }, tmp["run"], host, new CollectingProgress());
        var rows = IterationRow.ReadCsv(tmp["run/iterations.csv"]).ToArray();
        var failed = rows[2];
        Assert.Equal((0.0, 0.0, 0.0, 0.0, 0.0, true), (failed.Relevance, failed.Accuracy, failed.Completeness, failed.AgentMatch, failed.Quality, failed.ParseFailure));
        // Scored again on quality alone, the failed task earns nothing (it was scored at the judge's 0.5 fallback before).
        var rescored = RunRescoring.Of(rows, RewardWeights.Parse("quality=1"), "iterations.csv");
        Assert.Equal(rows.Where((_, i) => i != 2).Sum(r => r.Quality) / 6, rescored.MeanReward, 12);
        // The report counts it as a failed task; the judge's parse failures are the other rows' own.
        var s = result.Report.Summary;
        Assert.Equal((1, rows.Count(r => r.ParseFailure) - 1), (s.FailedTasks, s.JudgeParseFailures));
        Assert.Contains("Tasks that failed part-way through their chain: 1 of 6 (reward 0, quality 0, learned as reward 0)", result.Report.Text);
    }

    [Fact]
    public async Task A_recorded_chain_run_replays_every_step_from_the_cassette()
    {
        using var tmp = new TempDir();
        await Run(new QlearnOptions { Iterations = 8, Chains = TwoLongChains, Record = tmp["tape.jsonl"] }, tmp["recorded"]);
        Assert.Equal(32, File.ReadAllLines(tmp["tape.jsonl"]).Length);
        var replayed = await Run(new QlearnOptions { Iterations = 8, Chains = TwoLongChains, Replay = tmp["tape.jsonl"] }, tmp["replayed"]);
        Assert.Equal("replay", replayed.Report.Summary.Backend);
        Assert.Equal(File.ReadAllText(tmp["recorded/iterations.csv"]), File.ReadAllText(tmp["replayed/iterations.csv"]));
    }

    [Theory]
    [InlineData(1, new[] { "researcher/openai>researcher/anthropic" }, "The chain 'researcher/openai>researcher/anthropic' has 2 steps; chains may have at most 1.")]
    [InlineData(2, new[] { "researcher/openai>researcher/anthropic" }, "The chain 'researcher/openai>researcher/anthropic' uses the researcher agent twice; each agent appears at most once in a chain.")]
    [InlineData(2, new[] { "researcher/openai>wizard/openai" }, "Unknown agent 'wizard'; the agents are researcher, analyst, coder, validator.")]
    [InlineData(2, new[] { "researcher/openai>coder/mistral" }, "Unknown provider 'mistral'; the providers are openai, anthropic.")]
    [InlineData(4, null, "The longest chain must be 1 to 3 steps, not 4.")]
    public async Task A_bad_chain_is_refused_naming_it_before_anything_is_written(int maxLength, string[]? allowed, string message)
    {
        using var tmp = new TempDir();
        var e = await Assert.ThrowsAsync<RoutingInputException>(() => Run(new QlearnOptions { Chains = new ChainOptions { MaxLength = maxLength, Allowed = allowed } }, tmp["run"]));
        Assert.Equal(message, e.Message);
        Assert.False(Directory.Exists(tmp["run"]));
    }

    [Fact]
    public void Chains_are_routed_by_the_base_coordinator_only()
    {
        var e = Assert.Throws<RoutingInputException>(() => new QlearnOptions { Learner = "load-balanced", Chains = new ChainOptions { MaxLength = 2 } }.Resolve());
        Assert.Equal("Chains are routed by the base coordinator (state = task type); the load-balanced coordinator routes single agents, so leave out --load-balanced or the chains.", e.Message);
    }
}
