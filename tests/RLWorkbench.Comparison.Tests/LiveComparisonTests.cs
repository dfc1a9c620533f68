using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using RLWorkbench.Cli;
using RLWorkbench.Cli.Commands;
using RLWorkbench.Routing.Tests;

namespace RLWorkbench.Comparison.Tests;

/// <summary>`compare --record/--replay` and `compare --real --budget-usd` against a loopback server: never the internet.</summary>
public sealed class LiveComparisonTests
{
    private const string OpenAIKey = "sk-proj-LOOPBACK-SECRET-compare-1234";
    private const string AnthropicKey = "sk-ant-api03-LOOPBACK-SECRET-compare-5678";

    private static (int Code, string Output, string Error) Invoke(Func<string, string?> environment, params string[] args)
    {
        var root = new RootCommand("test");
        // Time that jumps instead of waiting: the providers' 60-requests-a-minute limit would otherwise take real minutes.
        root.Subcommands.Add(CompareCommand.Create(environment, new FastForwardTime()));
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = CommandLine.Invoke(root, ["compare", .. args], output, error);
        return (code, output.ToString(), error.ToString());
    }

    private static string TempDirectory() => Path.Combine(Path.GetTempPath(), "rlw-compare-tests", Guid.NewGuid().ToString("N"));

    /// <summary>Both providers on one server: OpenAI's chat completions (the agent or, for the grading prompt, the judge) and Anthropic's messages.</summary>
    private static LoopbackServer Providers() => new(request =>
    {
        if (request.Path == "/v1/chat/completions")
        {
            if (request.Body.Contains("You grade the work", StringComparison.Ordinal))
            {
                // Scores that depend on the agent, so the learners have something to find.
                var good = request.Body.Contains("coder", StringComparison.OrdinalIgnoreCase) ? 0.9 : 0.5;
                return LoopbackServer.OpenAIAnswer($"{{\"relevance\": {good}, \"accuracy\": {good}, \"completeness\": 0.7, \"agent_match\": 0.6, \"reasoning\": \"ok\"}}", 400, 60);
            }
            return LoopbackServer.OpenAIAnswer("An answer from the OpenAI side.", 100, 300);
        }
        return LoopbackServer.AnthropicAnswer("An answer from the Anthropic side.", 110, 500);
    });

    private static Func<string, string?> Env(LoopbackServer server, bool withAnthropicKey = true) => name => name switch
    {
        "OPENAI_API_KEY" => OpenAIKey,
        "ANTHROPIC_API_KEY" => withAnthropicKey ? AnthropicKey : null,
        "OPENAI_BASE_URL" => server.BaseUrl + "/v1",
        "ANTHROPIC_BASE_URL" => server.BaseUrl,
        _ => null,
    };

    private static readonly Func<string, string?> NoEnvironment = _ => null;

    /// <summary>seeds.csv without the wall-time column, which is the one thing a replay cannot repeat.</summary>
    private static string[] SeedRows(string dir)
    {
        var lines = File.ReadAllLines(Path.Combine(dir, "seeds.csv"));
        var wall = Array.IndexOf(lines[0].Split(','), "wall_s");
        return lines.Select(l => string.Join(',', l.Split(',').Where((_, i) => i != wall))).ToArray();
    }

    private static double LoggedSpend(string dir) =>
        File.ReadLines(Path.Combine(dir, "artifacts", "calls.jsonl"))
            .Sum(l => JsonDocument.Parse(l).RootElement.GetProperty("cost_usd").GetDouble());

    [Fact]
    public void A_recorded_comparison_replays_to_the_same_numbers_and_a_short_or_foreign_cassette_is_exit_2()
    {
        var tape = Path.Combine(TempDirectory(), "tape.jsonl");
        string[] Args(string dir, params string[] more) =>
            ["--learner", "qlearn,ucb1,thompson,random", "--budget", "40", "--out", dir, .. more, .. more.Contains("--seeds") ? Array.Empty<string>() : ["--seeds", "2"]];
        var recorded = TempDirectory();
        var (code, _, error) = Invoke(NoEnvironment, Args(recorded, "--record", tape));
        Assert.True(code == 0, error);
        Assert.Equal(4 * 2 * 40, File.ReadAllLines(tape).Length);

        // Recording changes nothing: the same numbers as the plain simulated backend.
        var plain = TempDirectory();
        (code, _, error) = Invoke(NoEnvironment, Args(plain));
        Assert.True(code == 0, error);
        Assert.Equal(SeedRows(plain), SeedRows(recorded));

        var replayed = TempDirectory();
        (code, var output, error) = Invoke(NoEnvironment, Args(replayed, "--replay", tape));
        Assert.True(code == 0, error);
        Assert.Contains("replay backend", output);
        Assert.Equal(SeedRows(recorded), SeedRows(replayed));
        Assert.Equal(File.ReadAllText(Path.Combine(recorded, "curves.csv")), File.ReadAllText(Path.Combine(replayed, "curves.csv")));
        Assert.Equal(4 * 2 * 40, File.ReadAllLines(Path.Combine(replayed, "artifacts", "calls.jsonl")).Length);

        // More calls than the cassette holds: refused before anything is written.
        var tooLong = TempDirectory();
        (code, _, error) = Invoke(NoEnvironment, Args(tooLong, "--replay", tape, "--seeds", "3"));
        Assert.Equal(2, code);
        Assert.Contains($"The cassette {tape} holds 320 exchanges; this comparison needs at least 480", error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists(tooLong));

        // Enough exchanges, but another task stream: the first call it has no answer for is one sentence and exit 2.
        var foreign = TempDirectory();
        (code, _, error) = Invoke(NoEnvironment, Args(foreign, "--replay", tape, "--first-seed", "7"));
        Assert.Equal(2, code);
        Assert.Contains("has no recorded", error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("\"status\": \"failed\"", File.ReadAllText(Path.Combine(foreign, "status.json")));
    }

    [Fact]
    public void A_live_comparison_prints_its_plan_counts_every_call_writes_no_key_and_replays_without_the_server()
    {
        using var server = Providers();
        var dir = TempDirectory();
        var tape = Path.Combine(TempDirectory(), "live.jsonl");
        // 40 requests: under the handler's 60 a minute per provider (a real-time token bucket), so the test does not wait.
        var (code, output, error) = Invoke(Env(server), "--real", "--budget-usd", "5", "--seeds", "2", "--budget", "20", "--out", dir, "--record", tape);
        Assert.True(code == 0, error);
        // qlearn only by default when live: 2 seeds x 20 calls.
        Assert.Contains("learners: qlearn", output);
        Assert.Contains("expected 40 calls", output);
        Assert.Contains("estimated cost $", output);
        Assert.Contains("PPO is left out of live runs unless named", output);
        Assert.Equal(40, server.Requests.Count);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(dir, "seeds.csv")).Length);
        var seedRows = File.ReadAllLines(Path.Combine(dir, "seeds.csv"));
        var dollars = Array.IndexOf(seedRows[0].Split(','), "dollars");
        var seedsDollars = seedRows.Skip(1).Sum(l => double.Parse(l.Split(',')[dollars], CultureInfo.InvariantCulture));
        Assert.Equal(LoggedSpend(dir), seedsDollars, 12);
        foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Append(tape))
        {
            if (file.EndsWith(".png", StringComparison.Ordinal))
                continue;
            var text = File.ReadAllText(file);
            Assert.DoesNotContain("LOOPBACK-SECRET", text);
        }

        var before = server.Requests.Count;
        var replay = TempDirectory();
        (code, _, error) = Invoke(NoEnvironment, "--replay", tape, "--learner", "qlearn", "--seeds", "2", "--budget", "20", "--out", replay);
        Assert.True(code == 0, error);
        Assert.Equal(before, server.Requests.Count);
        Assert.Equal(SeedRows(dir), SeedRows(replay));
    }

    [Fact]
    public void The_budget_stops_before_a_task_that_could_pass_it_and_keeps_the_finished_seeds()
    {
        using var server = Providers();
        var dir = TempDirectory();
        const double cap = 0.03;
        var (code, output, error) = Invoke(Env(server), "--real", "--budget-usd", cap.ToString(CultureInfo.InvariantCulture), "--learner", "qlearn,ucb1",
            "--seeds", "3", "--budget", "20", "--out", dir);
        Assert.True(code == 0, error);
        Assert.Contains("Budget reached:", output);
        var spent = LoggedSpend(dir);
        Assert.InRange(spent, 0.0001, cap);
        // Every routed task that started was judged: no agent call without its judge call.
        Assert.Equal(0, server.Requests.Count % 2);
        Assert.True(server.Requests.Count < 2 * 3 * 20, "the cap should stop the comparison before all six seeds");
        var status = File.ReadAllText(Path.Combine(dir, "status.json"));
        Assert.Contains("budget", status);
        Assert.Contains("\"status\": \"finished\"", status);
        var finished = File.ReadAllLines(Path.Combine(dir, "seeds.csv")).Length - 1;
        Assert.InRange(finished, 1, 5);
        Assert.Contains($"{finished} of 6 (learner, seed) runs finished", output);
        Assert.Contains("Stopped early", File.ReadAllText(Path.Combine(dir, "summary.md")));
        // It stopped because the next task's worst case no longer fit, not earlier.
        var stop = System.Text.RegularExpressions.Regex.Match(output, @"its worst case \(\$(?<worst>[0-9.]+)\) would take the spend past the \$0\.03 budget \(spent \$(?<spent>[0-9.]+)\)");
        Assert.True(stop.Success, output);
        Assert.True(double.Parse(stop.Groups["worst"].Value, CultureInfo.InvariantCulture) + double.Parse(stop.Groups["spent"].Value, CultureInfo.InvariantCulture) > cap - 1e-4);
        Assert.Equal(spent, double.Parse(stop.Groups["spent"].Value, CultureInfo.InvariantCulture), 4);
    }

    [Theory]
    [InlineData("missing: ANTHROPIC_API_KEY", false, "--real", "--budget-usd", "1")]
    [InlineData("needs a hard spending cap", true, "--real")]
    [InlineData("budgetUsd caps what live calls spend; it needs the real backend (--real).", true, "--budget-usd", "1")]
    // A configuration that selects the real backend needs no --real: --budget-usd is accepted, and the keys are checked next.
    [InlineData("missing: ANTHROPIC_API_KEY", false, "--set", "backend=real", "--budget-usd", "1", "--learner", "qlearn")]
    [InlineData("cannot be combined", true, "--real", "--budget-usd", "1", "--replay", "x.jsonl")]
    public void Live_input_is_checked_before_any_call_or_file(string message, bool anthropicKey, params string[] args)
    {
        using var server = Providers();
        var dir = TempDirectory();
        var (code, _, error) = Invoke(Env(server, anthropicKey), [.. args, "--seeds", "1", "--budget", "20", "--out", dir]);
        Assert.Equal(2, code);
        Assert.Contains(message, error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Empty(server.Requests);
        Assert.False(Directory.Exists(dir));
    }
}

public sealed class LiveBudgetTests
{
    [Fact]
    public void A_live_comparison_needs_its_call_budget_spelled_out()
    {
        var root = new RootCommand("test");
        root.Subcommands.Add(CompareCommand.Create(_ => "a-key-that-is-never-used", new FastForwardTime()));
        using var error = new StringWriter();
        var dir = Path.Combine(Path.GetTempPath(), "rlw-compare-tests", Guid.NewGuid().ToString("N"));
        var code = CommandLine.Invoke(root, ["compare", "--real", "--budget-usd", "1", "--out", dir], TextWriter.Null, error);
        Assert.Equal(2, code);
        Assert.Equal("error: A live comparison needs an explicit call budget (live calls cost money; the simulated default is 100,000 per learner and seed): set budgetCalls (--budget <calls>).", error.ToString().Trim());
        Assert.False(Directory.Exists(dir));
    }
}

public sealed class PpoReplayTests
{
    [Fact]
    public void Ppo_replays_its_recorded_calls_to_the_same_curve()
    {
        // PPO's vector environment steps its environments in order, so its calls, and a replay's answers, come in a fixed order too.
        var root = Path.Combine(Path.GetTempPath(), "rlw-compare-tests", Guid.NewGuid().ToString("N"));
        var tape = Path.Combine(root, "ppo.jsonl");
        string[] Args(string dir, string flag) =>
            ["compare", "--config", Path.Combine(RepositoryPaths.Root, "experiments", "compare-smoke.json"), "--learner", "ppo-small", "--seeds", "1", "--budget", "128", "--out", dir, flag, tape];
        int Run(string[] args)
        {
            var command = new System.CommandLine.RootCommand("test");
            command.Subcommands.Add(RLWorkbench.Cli.Commands.CompareCommand.Create(_ => null));
            return RLWorkbench.Cli.CommandLine.Invoke(command, args, TextWriter.Null, TextWriter.Null);
        }
        Assert.Equal(0, Run(Args(Path.Combine(root, "recorded"), "--record")));
        Assert.Equal(0, Run(Args(Path.Combine(root, "replayed"), "--replay")));
        Assert.Equal(File.ReadAllText(Path.Combine(root, "recorded", "curves.csv")), File.ReadAllText(Path.Combine(root, "replayed", "curves.csv")));
    }
}
