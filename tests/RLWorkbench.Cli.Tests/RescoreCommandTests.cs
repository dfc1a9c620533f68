using System.Globalization;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Workflow;
using RLWorkbench.TestSupport;

namespace RLWorkbench.Cli.Tests;

/// <summary>`qlearn --weights` learns a weighted reward; `runs rescore` scores a finished run again from its recorded vectors.</summary>
public sealed class RescoreCommandTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("rlw-rescore-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static (int Code, string Output, string Error) Invoke(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = CommandLine.Invoke(CommandLine.Root(), args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void A_weighted_qlearn_run_rescored_prints_the_mean_overall_per_chain_and_per_task_type_without_calls()
    {
        var run = Path.Combine(directory, "run");
        var learned = Invoke("qlearn", "--iterations", "12", "--weights", "quality=1,cost=20,latency=0.05,fairness=0.1", "--out", run);
        Assert.True(learned.Code == 0, learned.Error);
        var calls = File.ReadAllLines(Path.Combine(run, "artifacts", "calls.jsonl")).Length;

        var (code, output, error) = Invoke("runs", "rescore", run, "--weights", "Quality=1");

        Assert.True(code == 0, error);
        var rows = IterationRow.ReadCsv(Path.Combine(run, "iterations.csv")).ToArray();
        var lines = output.Split('\n');
        Assert.Equal("run: 12 tasks under quality=1,cost=0,latency=0,fairness=0 (from the recorded vectors, no calls)", lines[0]);
        Assert.Equal(string.Create(CultureInfo.InvariantCulture,
            $"mean scalarised reward {rows.Average(r => r.Quality):0.0000} (the run learned from a mean adjusted reward of {rows.Average(r => r.AdjustedReward):0.0000})"), lines[1]);
        Assert.Equal("by chain (tasks, mean):", lines[2]);
        var byType = Array.IndexOf(lines, "by task type (tasks, mean):");
        Assert.Equal(rows.Select(RunRescoring.ChainLabel).Distinct().Count(), byType - 3);
        Assert.Equal(rows.Select(r => r.TaskType).Distinct().Count(), lines.Length - 1 - byType - 1);
        // Nothing was sent: the call log is as the run left it.
        Assert.Equal(calls, File.ReadAllLines(Path.Combine(run, "artifacts", "calls.jsonl")).Length);
        Assert.Contains("\"weights\": {", File.ReadAllText(Path.Combine(run, "config.json")));
    }
}

/// <summary>`route` with the live provider state: on the rate-limited profile, anthropic is passed over once it has no room.</summary>
public sealed class RouteProviderStateTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("rlw-route-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void Twenty_five_coding_requests_at_once_send_twenty_to_anthropic_then_say_why_the_rest_go_elsewhere_and_report_each_provider()
    {
        var states = new[] { "analysis", "coding", "research", "validation" };
        var values = states.Select(s => RoutingAction.All.Select(a => s == "coding" && a.Label == "coder/anthropic" ? 0.9 : s == "coding" && a.Label == "coder/openai" ? 0.7 : 0.1).ToArray()).ToArray();
        var table = Path.Combine(directory, "qtable.json");
        File.WriteAllText(table, Routing.Learning.QTable.ToJson(new Routing.Learning.QTableDocument(RoutingAction.All.Select(a => a.Label).ToArray(), states, values)));
        var config = Path.Combine(directory, "c.json");
        File.WriteAllText(config, $$"""{"profile": "{{Path.Combine(RepositoryPaths.Root, "experiments", "profiles", "rate-limited.json")}}"}""");

        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = CommandLine.Invoke(CommandLine.Root(), ["route", "Write a cache", "--type", "coding", "--qtable", table, "--config", config, "--repeat", "25"], output, error);

        Assert.True(code == 0, error.ToString());
        var lines = output.ToString().Split('\n');
        Assert.Equal("[20] coding -> coder/anthropic", lines[19]);
        Assert.Equal("[21] coding -> coder/openai (instead of coder/anthropic: anthropic has no headroom left)", lines[20]);
        Assert.Contains("  5 of 25 requests passed over the learned choice for the providers' state", lines);
        Assert.Contains(lines, l => l.StartsWith("  anthropic: headroom 0% (requests 0 of 20 left, tokens ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("  openai: headroom 92% (requests 55 of 60 left, tokens ", StringComparison.Ordinal));
    }
}
