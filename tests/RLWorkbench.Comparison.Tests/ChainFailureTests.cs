using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using RLWorkbench.Cli;
using RLWorkbench.Cli.Commands;
using RLWorkbench.Routing.Tests;

namespace RLWorkbench.Comparison.Tests;

/// <summary>
/// A live comparison whose chain's second step gets a non-retryable error (HTTP 400) a few times, against a loopback server
/// speaking the real wire formats: the failed tasks are counted and billed, and past maxFailedTasks the run ends as before.
/// </summary>
public sealed class ChainFailureTests
{

    private static (int Code, string Output, string Error) Invoke(LoopbackServer server, params string[] args)
    {
        var root = new RootCommand("test");
        root.Subcommands.Add(CompareCommand.Create(name => name switch
        {
            "OPENAI_API_KEY" => "sk-proj-LOOPBACK-chainfail",
            "ANTHROPIC_API_KEY" => "sk-ant-api03-LOOPBACK-chainfail",
            "OPENAI_BASE_URL" => server.BaseUrl + "/v1",
            "ANTHROPIC_BASE_URL" => server.BaseUrl,
            _ => null,
        }, new FastForwardTime()));
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = CommandLine.Invoke(root, ["compare", .. args], output, error);
        return (code, output.ToString(), error.ToString());
    }

    private static string TempDirectory() => Path.Combine(Path.GetTempPath(), "rlw-compare-tests", Guid.NewGuid().ToString("N"));

    /// <summary>Two 2-step chains that differ only in the first agent, so whichever the learner picks, every task makes the same calls: an agent on OpenAI, the coder on Anthropic, the judge on OpenAI.</summary>
    private static string Config()
    {
        var path = Path.Combine(TempDirectory(), "chain.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, $$"""
            {
              "problem": { "kind": "base", "chains": { "maxLength": 2, "allowed": ["researcher/openai>coder/anthropic", "analyst/openai>coder/anthropic"] }, "chainOracleSamples": 100 },
              "seeds": 1,
              "budgetCalls": 20
            }
            """);
        return path;
    }

    /// <summary>The first <paramref name="refusals"/> Anthropic calls (the chain's second step) get a 400, which no retry repairs.</summary>
    private static LoopbackServer Providers(int refusals)
    {
        var anthropicCalls = 0;
        return new LoopbackServer(request =>
        {
            if (request.Path == "/v1/chat/completions")
            {
                return request.Body.Contains("You grade the work", StringComparison.Ordinal)
                    ? LoopbackServer.OpenAIAnswer("{\"relevance\": 0.8, \"accuracy\": 0.8, \"completeness\": 0.7, \"agent_match\": 0.6, \"reasoning\": \"ok\"}", 400, 60)
                    : LoopbackServer.OpenAIAnswer("Notes from the OpenAI side.", 100, 300);
            }
            return Interlocked.Increment(ref anthropicCalls) <= refusals
                ? new LoopbackResponse(400, "{\"type\": \"error\", \"error\": {\"type\": \"invalid_request_error\", \"message\": \"scripted refusal\"}}")
                : LoopbackServer.AnthropicAnswer("Code from the Anthropic side.", 110, 500);
        });
    }

    [Fact]
    public void A_provider_failing_a_chain_part_way_fails_the_task_counts_its_calls_and_dollars_and_the_comparison_finishes()
    {
        using var server = Providers(refusals: 3);
        var dir = TempDirectory();
        var (code, output, error) = Invoke(server, "--config", Config(), "--real", "--budget-usd", "5", "--learner", "ucb1-chains", "--out", dir);
        Assert.True(code == 0, error + output);

        // Three failed tasks of 2 calls (the first agent's answer and the refused coder call), then 3-call tasks until the
        // 20-call budget is passed: 6 + 5 x 3 = 21 calls, every one of them a request the server saw.
        Assert.Equal(21, server.Requests.Count);
        var rows = File.ReadAllLines(Path.Combine(dir, "seeds.csv")).Select(l => l.Split(',')).ToArray();
        string Column(string name) => rows[1][Array.IndexOf(rows[0], name)];
        Assert.Equal(2, rows.Length);
        Assert.Equal("failed_tasks", rows[0][^1]);
        Assert.Equal("3", Column("failed_tasks"));
        Assert.Equal("21", Column("calls_spent"));

        // The failed tasks' first calls are billed with the rest: the seed's dollars are every call the ledger logged, the 8
        // first-step calls (3 in failed tasks), 5 coder calls and 5 judge calls; the refused calls cost nothing.
        var calls = File.ReadLines(Path.Combine(dir, "artifacts", "calls.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        int Paid(string provider, string purpose) => calls.Count(c => c.GetProperty("provider").GetString() == provider
            && string.Equals(c.GetProperty("purpose").GetString(), purpose, StringComparison.OrdinalIgnoreCase) && c.GetProperty("cost_usd").GetDouble() > 0);
        Assert.Equal((8, 5, 5), (Paid("openai", "agent"), Paid("anthropic", "agent"), Paid("openai", "judge")));
        Assert.Equal(calls.Sum(c => c.GetProperty("cost_usd").GetDouble()), double.Parse(Column("dollars"), CultureInfo.InvariantCulture), 12);

        Assert.Contains("3 tasks failed part-way", output);
        Assert.Contains("Tasks a provider's failure ended part-way through a chain (reward 0, the calls already made counted and billed; at most 5 per run, maxFailedTasks): 3 over all runs (`ucb1-chains` 3).", output);
        Assert.Contains("Tasks a provider's failure ended part-way through a chain", File.ReadAllText(Path.Combine(dir, "summary.md")));
    }

    [Fact]
    public void One_more_failed_chain_than_maxFailedTasks_ends_the_run_as_a_provider_failure_did_before()
    {
        using var server = Providers(refusals: 3);
        var dir = TempDirectory();
        var (code, output, error) = Invoke(server, "--config", Config(), "--real", "--budget-usd", "5", "--learner", "ucb1-chains", "--out", dir, "--set", "maxFailedTasks=2");
        Assert.NotEqual(0, code);
        Assert.NotEqual(2, code);
        Assert.Contains("3 tasks failed part-way through a chain, more than the 2 allowed (maxFailedTasks); the last: The chain '", output + error);
        Assert.Contains("/openai>coder/anthropic' failed at step 2 (coder/anthropic)", output + error);
        // Nothing after the third failed task: 3 x (first agent + refused coder).
        Assert.Equal(6, server.Requests.Count);
        Assert.False(File.Exists(Path.Combine(dir, "seeds.csv")));
        Assert.Contains("\"status\": \"failed\"", File.ReadAllText(Path.Combine(dir, "status.json")));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1000001")]
    public void MaxFailedTasks_outside_0_to_a_million_is_one_sentence_and_exit_2(string value)
    {
        using var server = Providers(refusals: 0);
        var dir = TempDirectory();
        var (code, _, error) = Invoke(server, "--config", Config(), "--real", "--budget-usd", "5", "--learner", "ucb1-chains", "--out", dir, "--set", $"maxFailedTasks={value}");
        Assert.Equal(2, code);
        Assert.Equal($"error: 'maxFailedTasks' must be a whole number from 0 to 1,000,000, got {value}.", error.Trim());
        Assert.Empty(server.Requests);
        Assert.False(Directory.Exists(dir));
    }
}
