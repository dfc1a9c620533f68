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
        Assert.Equal(new RunPlan(8, 16, progress.Plan!.EstimatedCostUsd, progress.Plan.WorstCaseCostUsd), progress.Plan);
        foreach (var row in IterationRow.ReadCsv(tmp["run/iterations.csv"]))
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
    public async Task A_provider_that_stays_down_ends_the_run_with_a_clear_message_and_everything_saved()
    {
        using var tmp = new TempDir();
        using var server = Providers(_ => LoopbackServer.AnthropicError(529, "overloaded_error", "Overloaded"));
        var result = await Run(new QlearnOptions { Backend = "real", Iterations = 30, Seed = 3 }, tmp["run"], Env(server));
        Assert.Equal(StopReason.ProviderDown, result.Outcome.Reason);
        Assert.Equal("anthropic kept failing with HTTP 529 after every retry.", result.Outcome.Message);
        var rows = IterationRow.ReadCsv(tmp["run/iterations.csv"]).ToArray();
        Assert.Equal(result.Outcome.IterationsDone, rows.Length);
        Assert.All(rows, r => Assert.Equal("openai", r.Provider));
        Assert.Contains("\"status\": \"failed\"", File.ReadAllText(tmp["run/status.json"]));
        Assert.Contains("anthropic kept failing", File.ReadAllText(tmp["run/status.json"]));
        Assert.True(File.Exists(tmp["run/artifacts/qtable.json"]));
        Assert.True(File.Exists(tmp["run/artifacts/checkpoint.json"]));
        Assert.Equal(5, server.Requests.Count(r => r.Path == "/v1/messages"));
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
    }
}
