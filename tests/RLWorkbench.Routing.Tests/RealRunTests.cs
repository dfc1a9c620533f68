using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Routing.Tests;

/// <summary>qlearn --real end to end against loopback servers speaking both wire formats.</summary>
public class RealRunTests
{
    private const string OpenAIKey = "sk-proj-LOOPBACK-SECRET-0a1b2c3d";
    private const string AnthropicKey = "sk-ant-api03-LOOPBACK-SECRET-9z8y7x";

    private static LoopbackServer Providers(Func<LoopbackRequest, LoopbackResponse>? anthropic = null) => new(request =>
    {
        if (request.Path == "/v1/chat/completions")
        {
            return request.Body.Contains("You grade the work", StringComparison.Ordinal)
                ? LoopbackServer.OpenAIAnswer("```json\n{\"relevance\": 0.9, \"accuracy\": 0.8, \"completeness\": 0.7, \"agent_match\": 0.6, \"reasoning\": \"ok\"}\n```", 400, 60)
                : LoopbackServer.OpenAIAnswer("An answer from the OpenAI side.", 100, 300);
        }
        return anthropic?.Invoke(request) ?? LoopbackServer.AnthropicAnswer("An answer from the Anthropic side.", 110, 500);
    });

    private static Func<string, string?> Env(LoopbackServer server, bool withAnthropicKey = true) => name => name switch
    {
        "OPENAI_API_KEY" => OpenAIKey,
        "ANTHROPIC_API_KEY" => withAnthropicKey ? AnthropicKey : null,
        "OPENAI_BASE_URL" => server.BaseUrl + "/v1",
        "ANTHROPIC_BASE_URL" => server.BaseUrl,
        _ => null,
    };

    private static Task<QlearnResult> Run(QlearnOptions options, string dir, Func<string, string?> env, IQlearnProgress? progress = null) =>
        QlearnSession.RunAsync(new QlearnRequest { Options = options, OutDirectory = dir, Environment = env, Time = new FastForwardTime() }, progress ?? new CollectingProgress(), CancellationToken.None);

    [Fact]
    public async Task Real_run_counts_the_providers_tokens_and_never_writes_a_key()
    {
        using var tmp = new TempDir();
        using var server = Providers();
        var progress = new CollectingProgress();
        var result = await Run(new QlearnOptions { Backend = "real", Iterations = 8, Record = tmp["tape.jsonl"] }, tmp["run"], Env(server), progress);
        Assert.Equal(StopReason.Completed, result.Outcome.Reason);
        Assert.Equal(16, server.Requests.Count);
        Assert.Equal(16, result.Report.Summary.Calls.TotalCalls);
        var plan = progress.Plan!;
        Assert.Equal((8, 16), (plan.Iterations, plan.ExpectedCalls));
        // The plan's worst case is the budget guard's per-iteration worst case, for the dearest (task, action), 8 times.
        var settings = new QlearnOptions().ProviderSettings();
        var dearest = TaskBank.Default.Tasks.SelectMany(t => RoutingAction.All.Select(a =>
            RoutedTaskExecutor.WorstCase(t, a, settings[a.Provider], settings[Provider.OpenAI], PriceTable.Default, JudgePrompt.DefaultOutputChars).Total)).Max();
        Assert.Equal(8 * dearest, plan.WorstCaseCostUsd, 12);
        Assert.InRange(plan.EstimatedCostUsd, 0.1 * plan.WorstCaseCostUsd, plan.WorstCaseCostUsd);
        var rows = IterationRow.ReadCsv(tmp["run/iterations.csv"]).ToArray();
        Assert.Equal(Enumerable.Range(1, 8), rows.Select(r => r.Iteration));
        foreach (var row in rows)
        {
            Assert.Equal((0.9, 0.8, 0.7, 0.6, false), (row.Relevance, row.Accuracy, row.Completeness, row.AgentMatch, row.ParseFailure));
            var (input, output, model) = row.Provider == "openai" ? (100L, 300L, "gpt-4o-mini") : (110L, 500L, "claude-3-5-haiku-latest");
            Assert.Equal((input, output), (row.InputTokens, row.OutputTokens));
            Assert.Equal(PriceTable.Default.Cost(model, input, output), row.CostUsd, 15);
            Assert.Equal(PriceTable.Default.Cost("gpt-4o-mini", 400, 60), row.JudgeCostUsd, 15);
        }
        var files = Directory.EnumerateFiles(tmp.Path, "*", SearchOption.AllDirectories).ToArray();
        Assert.Contains(files, f => f.EndsWith("calls.jsonl", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("tape.jsonl", StringComparison.Ordinal));
        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            Assert.DoesNotContain(OpenAIKey, text);
            Assert.DoesNotContain(AnthropicKey, text);
            Assert.DoesNotContain("LOOPBACK-SECRET", text);
        }

        // The cassette replays the run with no keys and no server.
        var requestsBefore = server.Requests.Count;
        var replay = await Run(new QlearnOptions { Iterations = 8, Replay = tmp["tape.jsonl"] }, tmp["replay"], _ => null);
        Assert.Equal(requestsBefore, server.Requests.Count);
        Assert.Equal(File.ReadAllText(tmp["run/iterations.csv"]), File.ReadAllText(tmp["replay/iterations.csv"]));
        Assert.Equal(result.Report.Summary.Calls.TotalCostUsd, replay.Report.Summary.Calls.TotalCostUsd, 15);
    }

    [Fact]
    public async Task Missing_key_is_named_before_any_call_or_file()
    {
        using var tmp = new TempDir();
        using var server = Providers();
        var e = await Assert.ThrowsAsync<RoutingInputException>(() => Run(new QlearnOptions { Backend = "real" }, tmp["run"], Env(server, withAnthropicKey: false)));
        Assert.Equal("Real providers need API keys in the environment; missing: ANTHROPIC_API_KEY.", e.Message);
        Assert.Empty(server.Requests);
        Assert.False(Directory.Exists(tmp["run"]));
    }

    [Fact]
    public async Task A_chain_run_needs_only_the_keys_of_the_providers_its_chains_and_judge_call()
    {
        using var tmp = new TempDir();
        using var server = Providers();
        // Every allowed chain and the judge are on openai (a local OpenAI-compatible server, say): no Anthropic key is needed.
        var openaiOnly = new ChainOptions { MaxLength = 2, Allowed = ["researcher/openai>validator/openai", "coder/openai"] };
        var result = await Run(new QlearnOptions { Backend = "real", Iterations = 4, Chains = openaiOnly }, tmp["run"], Env(server, withAnthropicKey: false));
        Assert.Equal((StopReason.Completed, 4), (result.Outcome.Reason, result.Outcome.IterationsDone));
        Assert.All(server.Requests, r => Assert.Equal("/v1/chat/completions", r.Path));

        // A chain with an anthropic step still needs its key, named before any call or file.
        var withAnthropic = openaiOnly with { Allowed = ["researcher/openai>validator/anthropic", "coder/openai"] };
        var requests = server.Requests.Count;
        var e = await Assert.ThrowsAsync<RoutingInputException>(() => Run(new QlearnOptions { Backend = "real", Iterations = 4, Chains = withAnthropic }, tmp["second"], Env(server, withAnthropicKey: false)));
        Assert.Equal("Real providers need API keys in the environment; missing: ANTHROPIC_API_KEY.", e.Message);
        Assert.Equal(requests, server.Requests.Count);
        Assert.False(Directory.Exists(tmp["second"]));
    }

    [Fact]
    public async Task A_provider_that_stays_down_ends_the_run_with_a_clear_message_and_everything_saved()
    {
        using var tmp = new TempDir();
        using var server = Providers(_ => LoopbackServer.AnthropicError(529, "overloaded_error", "Overloaded"));
        // Seed 7 routes its first three tasks to openai, the fourth to anthropic.
        var result = await Run(new QlearnOptions { Backend = "real", Iterations = 30, Seed = 7 }, tmp["run"], Env(server));
        Assert.Equal(StopReason.ProviderDown, result.Outcome.Reason);
        Assert.Equal(3, result.Outcome.IterationsDone);
        Assert.Equal("anthropic kept failing with HTTP 529 after every retry.", result.Outcome.Message);
        var rows = IterationRow.ReadCsv(tmp["run/iterations.csv"]).ToArray();
        Assert.Equal(3, rows.Length);
        Assert.All(rows, r => Assert.Equal("openai", r.Provider));
        Assert.Contains("\"status\": \"failed\"", File.ReadAllText(tmp["run/status.json"]));
        Assert.Contains("anthropic kept failing", File.ReadAllText(tmp["run/status.json"]));
        Assert.True(File.Exists(tmp["run/artifacts/qtable.json"]));
        Assert.True(File.Exists(tmp["run/artifacts/checkpoint.json"]));
        Assert.Equal(5, server.Requests.Count(r => r.Path == "/v1/messages"));
    }

    [Fact]
    public async Task A_provider_billing_past_max_tokens_is_recorded_at_its_real_cost_and_no_further_call_is_sent()
    {
        using var tmp = new TempDir();
        // Both providers report a million output tokens against max_tokens 768.
        using var server = new LoopbackServer(request => request.Path == "/v1/chat/completions"
            ? LoopbackServer.OpenAIAnswer("A long answer.", 100, 1_000_000)
            : LoopbackServer.AnthropicAnswer("A long answer.", 110, 1_000_000));
        var progress = new CollectingProgress();
        var result = await Run(new QlearnOptions { Backend = "real", Iterations = 30, BudgetUsd = 0.01 }, tmp["run"], Env(server), progress);
        Assert.Equal(StopReason.Budget, result.Outcome.Reason);
        Assert.Equal(0, result.Outcome.IterationsDone);
        // The first agent call overspent; its judge call was never sent.
        var sent = Assert.Single(server.Requests);
        var call = Assert.Single(File.ReadAllLines(tmp["run/artifacts/calls.jsonl"]));
        var model = sent.Path == "/v1/chat/completions" ? "gpt-4o-mini" : "claude-3-5-haiku-latest";
        var realCost = PriceTable.Default.Cost(model, sent.Path == "/v1/chat/completions" ? 100 : 110, 1_000_000);
        Assert.Equal(realCost, result.Report.Summary.Calls.TotalCostUsd, 12);
        Assert.Contains("\"output_tokens\":1000000", call);
        Assert.Contains(progress.Notices, n => n.Contains("1000000 output tokens for iteration 1's agent call, more than max_tokens 768; recorded at the real cost", StringComparison.Ordinal));
        Assert.StartsWith("stopped before the judge call of iteration 1", result.Outcome.Message);
    }

    [Fact]
    public async Task A_budget_stop_with_calls_in_flight_records_every_call_the_providers_received()
    {
        using var tmp = new TempDir();
        var delay = TimeSpan.FromMilliseconds(300);
        using var server = new LoopbackServer(request => request.Path == "/v1/chat/completions"
            ? (request.Body.Contains("You grade the work", StringComparison.Ordinal)
                ? LoopbackServer.OpenAIAnswer("{\"relevance\": 0.9, \"accuracy\": 0.8, \"completeness\": 0.7, \"agent_match\": 0.6}", 400, 60)
                : LoopbackServer.OpenAIAnswer("An answer.", 100, 300)) with { Delay = delay }
            : LoopbackServer.AnthropicAnswer("An answer.", 110, 500) with { Delay = delay });
        var result = await Run(new QlearnOptions { Backend = "real", Iterations = 40, Concurrency = 8, BudgetUsd = 0.01 }, tmp["run"], Env(server));
        Assert.Equal(StopReason.Budget, result.Outcome.Reason);
        Assert.InRange(result.Outcome.IterationsDone, 2, 39);
        Assert.Equal(server.Requests.Count, result.Report.Summary.Calls.TotalCalls);
        Assert.Equal(server.Requests.Count, File.ReadAllLines(tmp["run/artifacts/calls.jsonl"]).Length);
        Assert.Equal(2 * result.Outcome.IterationsDone, server.Requests.Count);
        Assert.True(result.Report.Summary.Calls.TotalCostUsd <= 0.01);
        // The refusal adds up: the worst case, what was spent and what the calls in flight hold pass the budget.
        var stop = System.Text.RegularExpressions.Regex.Match(result.Outcome.Message!,
            @"^stopped before iteration \d+: its worst case \(\$(?<worst>[0-9.]+)\) would take the spend past the \$0\.01 budget \(spent \$(?<spent>[0-9.]+), \$(?<held>[0-9.]+) held for the calls in flight\)\.$");
        Assert.True(stop.Success, result.Outcome.Message);
        Assert.True(double.Parse(stop.Groups["worst"].Value) + double.Parse(stop.Groups["spent"].Value) + double.Parse(stop.Groups["held"].Value) > 0.01 - 0.0002);
    }

    [Fact]
    public async Task Malformed_provider_answers_are_failed_calls_and_stop_the_run_only_past_the_limit()
    {
        using var tmp = new TempDir();
        using var server = Providers(_ => new LoopbackResponse(200, "not json at all"));
        var progress = new CollectingProgress();
        var result = await Run(new QlearnOptions { Backend = "real", Iterations = 30, Seed = 3, MaxFailedCalls = 2 }, tmp["run"], Env(server), progress);
        Assert.Equal(StopReason.ProviderDown, result.Outcome.Reason);
        Assert.StartsWith("3 calls got answers that are not valid for their API, more than the 2 allowed (maxFailedCalls); the last: anthropic ", result.Outcome.Message);
        Assert.Equal(3, server.Requests.Count(r => r.Path == "/v1/messages"));
        var rows = IterationRow.ReadCsv(tmp["run/iterations.csv"]).ToArray();
        Assert.Equal(result.Outcome.IterationsDone, rows.Length);
        // The two tolerated failures were judged as empty answers and learned from; the third stopped the run.
        Assert.Equal(2, rows.Count(r => r.Provider == "anthropic"));
        Assert.All(rows.Where(r => r.Provider == "anthropic"), r => Assert.Equal((0L, 0L, 0.0), (r.InputTokens, r.OutputTokens, r.CostUsd)));
        var failed = File.ReadAllLines(tmp["run/artifacts/calls.jsonl"]).Where(l => l.Contains("\"failure\":\"malformed-response\"", StringComparison.Ordinal)).ToArray();
        Assert.Equal(3, failed.Length);
        Assert.Equal(3, result.Report.Summary.Calls.FailedCalls);
        Assert.Contains("  3 calls got an answer not valid for their API", result.Report.Text);
        Assert.Equal(3, progress.Notices.Count(n => n.Contains("Counted as failed call", StringComparison.Ordinal)));
        Assert.Contains("\"status\": \"failed\"", File.ReadAllText(tmp["run/status.json"]));
    }

    [Fact]
    public async Task A_malformed_judge_answer_scores_like_a_judge_parse_failure()
    {
        using var tmp = new TempDir();
        var judgeCalls = 0;
        using var server = new LoopbackServer(request =>
        {
            if (request.Path != "/v1/chat/completions")
                return LoopbackServer.AnthropicAnswer("An answer from the Anthropic side.", 110, 500);
            if (!request.Body.Contains("You grade the work", StringComparison.Ordinal))
                return LoopbackServer.OpenAIAnswer("An answer from the OpenAI side.", 100, 300);
            return Interlocked.Increment(ref judgeCalls) == 2
                ? new LoopbackResponse(200, "<html>bad gateway page</html>")
                : LoopbackServer.OpenAIAnswer("{\"relevance\": 0.9, \"accuracy\": 0.8, \"completeness\": 0.7, \"agent_match\": 0.6}", 400, 60);
        });
        var result = await Run(new QlearnOptions { Backend = "real", Iterations = 4 }, tmp["run"], Env(server));
        Assert.Equal(StopReason.Completed, result.Outcome.Reason);
        var rows = IterationRow.ReadCsv(tmp["run/iterations.csv"]).ToArray();
        Assert.Equal([false, true, false, false], rows.Select(r => r.ParseFailure));
        Assert.Equal((0.5, 0.5, 0.5, 0.5, 0.0), (rows[1].Relevance, rows[1].Accuracy, rows[1].Completeness, rows[1].AgentMatch, rows[1].JudgeCostUsd));
        Assert.Equal(1, result.Report.Summary.JudgeParseFailures);
        Assert.Equal(8, result.Report.Summary.Calls.TotalCalls);
    }

    [Fact]
    public async Task Budget_is_a_hard_cap_on_real_spend()
    {
        using var tmp = new TempDir();
        using var server = Providers();
        var result = await Run(new QlearnOptions { Backend = "real", Iterations = 30, BudgetUsd = 0.005 }, tmp["run"], Env(server));
        Assert.Equal(StopReason.Budget, result.Outcome.Reason);
        Assert.True(result.Report.Summary.Calls.TotalCostUsd <= 0.005);
        Assert.True(result.Outcome.IterationsDone < 30);
        Assert.Equal(2 * result.Outcome.IterationsDone, server.Requests.Count);
        // A budget under a cent is shown as given, not rounded to $0.01 or $0.00.
        Assert.Matches(@"^stopped before iteration \d+: its worst case \(\$[0-9.]+\) would take the spend past the \$0\.005 budget \(spent \$[0-9.]+\)\.$", result.Outcome.Message);
    }
    [Fact]
    public async Task Real_chain_run_sends_every_step_and_a_provider_failure_part_way_is_a_failed_task_with_its_calls_billed()
    {
        using var tmp = new TempDir();
        // Anthropic's second request, a step after the first of some chain, is refused (400: not retried, nothing billed).
        var anthropic = 0;
        using var server = Providers(_ => Interlocked.Increment(ref anthropic) == 2
            ? LoopbackServer.AnthropicError(400, "invalid_request_error", "prompt is too long")
            : LoopbackServer.AnthropicAnswer("An answer from the Anthropic side.", 110, 500));
        var chains = new ChainOptions { MaxLength = 3, Allowed = ["researcher/openai>analyst/anthropic>validator/openai", "coder/anthropic>analyst/openai>validator/anthropic"] };
        var progress = new CollectingProgress();
        var result = await Run(new QlearnOptions { Backend = "real", Iterations = 6, Chains = chains, BudgetUsd = 5 }, tmp["run"], Env(server), progress);
        Assert.Equal((StopReason.Completed, 6), (result.Outcome.Reason, result.Outcome.IterationsDone));
        var rows = IterationRow.ReadCsv(tmp["run/iterations.csv"]).ToArray();
        var failed = rows.Where(r => r.ParseFailure).ToArray();
        Assert.Single(failed);
        // Every call that answered is on the record and billed, the failed task's earlier steps included; the refused one is not.
        Assert.Equal(server.Requests.Count - 1, result.Report.Summary.Calls.TotalCalls);
        var log = CallLog.Read(tmp["run/artifacts/calls.jsonl"], _ => { }).ToArray();
        var failedCalls = log.Where(c => c.Iteration == failed[0].Iteration).ToArray();
        Assert.InRange(failedCalls.Length, 1, 2);
        Assert.All(failedCalls, c => Assert.Equal("agent", c.Purpose));
        Assert.Equal(failedCalls.Sum(c => c.CostUsd), failed[0].CostUsd, 15);
        Assert.Equal(4 * 5 + failedCalls.Length, log.Length);
        Assert.Equal(result.Report.Summary.Calls.TotalCostUsd, rows.Sum(r => r.CostUsd + r.JudgeCostUsd), 12);
        Assert.Equal((0.0, 0.0), (failed[0].RawReward, failed[0].JudgeCostUsd));
        foreach (var row in rows.Where(r => !r.ParseFailure))
            Assert.Equal(3, row.Agent.Split('>').Length);
        Assert.Equal(6 * 4, progress.Plan!.ExpectedCalls);
    }
    [Theory]
    [InlineData("ucb1", 5)]
    [InlineData("composed", 4)]
    public async Task A_chain_whose_handoff_always_fails_is_learned_as_reward_0_and_stops_taking_every_task(string algorithm, int failedTasks)
    {
        using var tmp = new TempDir();
        // Chain 0's second step goes to Anthropic, which refuses every request (400, as a local server refused a handoff);
        // the other chains stay on OpenAI. Unlearned, UCB1's untried-first rule sent all 12 tasks to chain 0.
        using var server = Providers(_ => LoopbackServer.AnthropicError(400, "invalid_request_error", "prompt is too long"));
        var chains = new ChainOptions { MaxLength = 2, Allowed = ["researcher/openai>analyst/anthropic", "researcher/openai>analyst/openai", "coder/openai"] };
        var progress = new CollectingProgress();
        var result = await Run(new QlearnOptions { Backend = "real", Algorithm = algorithm, Iterations = 12, Chains = chains, BudgetUsd = 5, MaxFailedCalls = 12 }, tmp["run"], Env(server), progress);
        Assert.Equal((StopReason.Completed, 12), (result.Outcome.Reason, result.Outcome.IterationsDone));
        var rows = IterationRow.ReadCsv(tmp["run/iterations.csv"]).ToArray();
        // Chain 0 fails every time it is routed, and is routed once per task type seen: the learner moves away after its reward 0.
        Assert.All(rows.Where(r => r.Action == 0), r => Assert.True(r.ParseFailure));
        Assert.Equal(failedTasks, rows.Count(r => r.Action == 0));
        Assert.Equal(failedTasks, result.Report.Summary.FailedTasks);
        // Each failed task is learned as a reward of 0.
        Assert.All(progress.Results.Where(r => r.Decision.ActionIndex == 0), r => Assert.Equal(0.0, r.Update.AdjustedReward));
        Assert.All(progress.Results.Where(r => r.Decision.ActionIndex == 0), r => Assert.Equal(0.0, r.Update.QAfter, 1e-12));
    }
}
