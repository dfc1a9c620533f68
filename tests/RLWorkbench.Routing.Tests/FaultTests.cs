using System.Text.Json;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Workflow;
using RLWorkbench.Tracking;

namespace RLWorkbench.Routing.Tests;

/// <summary>A full disk and a process that died mid-write: every file whole or absent, a resume that repairs and says so.</summary>
public class FaultTests
{
    private static async Task<QlearnResult> RunWith(QlearnOptions options, string dir, QlearnHost host, IQlearnProgress? progress = null, CancellationToken ct = default)
    {
        var resolved = options.Resolve();
        using var run = File.Exists(Path.Combine(dir, RunStore.StatusFile)) ? RunStore.Open(dir) : RunStore.CreateAt(dir, QlearnSession.Kind);
        return await QlearnSession.RunAsync(run, resolved, QlearnSession.Prepare(resolved, _ => null), host, progress ?? new CollectingProgress(), ct);
    }

    private static readonly JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static CallRecord Call(int iteration) => new(iteration, "agent", "openai", "gpt-4o-mini", null, 10, 20, true, 0.5, 0.001, DateTimeOffset.UnixEpoch);

    [Fact]
    public void A_call_log_line_that_does_not_fit_on_the_disk_is_cut_back_not_left_torn()
    {
        using var tmp = new TempDir();
        var path = tmp["calls.jsonl"];
        var oneLine = JsonSerializer.Serialize(Call(1), SnakeCase).Length + 1;
        using (var log = CallLog.Open(path, FullDiskStream.Opener(2 * oneLine + oneLine / 2)))
        {
            log.Append(Call(1));
            log.Append(Call(2));
            var e = Assert.Throws<IOException>(() => log.Append(Call(3)));
            Assert.Equal($"Could not write {path}: No space left on device", e.Message);
        }
        var text = File.ReadAllText(path);
        Assert.Equal(2 * oneLine, text.Length);
        Assert.EndsWith("\n", text);
        Assert.Equal([1, 2], CallLog.Read(path, _ => Assert.Fail("nothing to repair")).Select(c => c.Iteration));
    }

    [Fact]
    public async Task A_full_disk_mid_run_fails_the_run_with_whole_files_and_a_resume_finishes_it_like_an_uninterrupted_run()
    {
        using var tmp = new TempDir();
        var options = new QlearnOptions { Iterations = 30 };
        await RunWith(options, tmp["whole"], new QlearnHost());

        // Room for about 11 call lines: the disk fills during iteration 6.
        var full = await RunWith(options, tmp["part"], new QlearnHost { OpenCallLog = FullDiskStream.Opener(3000) });
        Assert.Equal(StopReason.WriteFailed, full.Outcome.Reason);
        Assert.Equal($"writing the run failed after {full.Outcome.IterationsDone} iterations: Could not write {tmp["part/artifacts/calls.jsonl"]}: No space left on device.", full.Outcome.Message);
        Assert.InRange(full.Outcome.IterationsDone, 4, 7);
        var status = File.ReadAllText(tmp["part/status.json"]);
        Assert.Contains("\"status\": \"failed\"", status);
        Assert.Contains("No space left on device", status);
        var partLines = File.ReadAllLines(tmp["part/artifacts/calls.jsonl"]);
        Assert.EndsWith("\n", File.ReadAllText(tmp["part/artifacts/calls.jsonl"]));
        Assert.Equal(full.Outcome.IterationsDone, IterationRow.ReadCsv(tmp["part/iterations.csv"]).Count());
        Assert.Equal(full.Outcome.IterationsDone, QlearnSession.IterationsDone(tmp["part"]));
        // The agent call of the iteration that hit the full disk may be on the record (it was made); its judge call is not.
        var extra = partLines.Length - 2 * full.Outcome.IterationsDone;
        Assert.InRange(extra, 0, 1);
        Assert.Empty(Directory.EnumerateFiles(tmp["part"], "*.tmp-*", SearchOption.AllDirectories));

        var progress = new CollectingProgress();
        var resumed = await RunWith(options, tmp["part"], new QlearnHost(), progress);
        Assert.Equal(StopReason.Completed, resumed.Outcome.Reason);
        Assert.Empty(progress.Notices);
        Assert.Equal(File.ReadAllText(tmp["whole/iterations.csv"]), File.ReadAllText(tmp["part/iterations.csv"]));
        Assert.Equal(File.ReadAllText(tmp["whole/artifacts/qtable.csv"]), File.ReadAllText(tmp["part/artifacts/qtable.csv"]));
        Assert.Equal(60 + extra, File.ReadAllLines(tmp["part/artifacts/calls.jsonl"]).Length);
    }

    [Fact]
    public async Task A_resume_repairs_torn_last_lines_left_by_a_killed_process_and_says_so()
    {
        using var tmp = new TempDir();
        var options = new QlearnOptions { Iterations = 20 };
        await RunWith(options, tmp["whole"], new QlearnHost());

        using var cts = new CancellationTokenSource();
        await RunWith(options, tmp["part"], new QlearnHost(), new CollectingProgress(r => { if (r.Iteration == 9) cts.Cancel(); }), cts.Token);
        Assert.Equal(10, QlearnSession.IterationsDone(tmp["part"]));
        // What a process killed in the middle of writing iteration 11 leaves: a row with no newline, half a call line.
        File.AppendAllText(tmp["part/iterations.csv"], "11,c2,coding,cod");
        File.AppendAllText(tmp["part/artifacts/calls.jsonl"], "{\"iteration\":11,\"purpose\":\"ag");

        var progress = new CollectingProgress();
        await RunWith(options, tmp["part"], new QlearnHost(), progress);
        Assert.Equal(
        [
            $"{tmp["part/artifacts/calls.jsonl"]}: the last line (line 21) was cut short by a write that did not finish; it is dropped.",
            $"{tmp["part/iterations.csv"]}: the last row (line 12) was cut short by a write that did not finish; it is dropped.",
        ], progress.Notices);
        Assert.Equal(File.ReadAllText(tmp["whole/iterations.csv"]), File.ReadAllText(tmp["part/iterations.csv"]));
        Assert.Equal(40, File.ReadAllLines(tmp["part/artifacts/calls.jsonl"]).Length);
    }

    [Fact]
    public async Task Rows_logged_after_the_checkpoint_are_dropped_on_resume_so_no_iteration_appears_twice()
    {
        using var tmp = new TempDir();
        var options = new QlearnOptions { Iterations = 12 };
        await RunWith(options, tmp["whole"], new QlearnHost());
        using var cts = new CancellationTokenSource();
        await RunWith(options, tmp["part"], new QlearnHost(), new CollectingProgress(r => { if (r.Iteration == 5) cts.Cancel(); }), cts.Token);
        // A kill between a row and its checkpoint: the row of iteration 7 is there, the checkpoint still says 6.
        var seventh = File.ReadAllLines(tmp["whole/iterations.csv"])[7];
        File.AppendAllText(tmp["part/iterations.csv"], seventh + "\n");

        var progress = new CollectingProgress();
        await RunWith(options, tmp["part"], new QlearnHost(), progress);
        Assert.Equal([$"{tmp["part/iterations.csv"]}: 1 rows after the checkpoint (iteration 6) are dropped; those iterations run again."], progress.Notices);
        Assert.Equal(File.ReadAllText(tmp["whole/iterations.csv"]), File.ReadAllText(tmp["part/iterations.csv"]));
    }

    [Fact]
    public async Task Reading_iterations_leaves_out_a_torn_last_row_and_names_the_line_of_a_broken_one()
    {
        using var tmp = new TempDir();
        await RunWith(new QlearnOptions { Iterations = 3 }, tmp["run"], new QlearnHost());
        var path = tmp["run/iterations.csv"];
        var whole = File.ReadAllLines(path);
        File.AppendAllText(path, "4,c2,coding,cod");
        Assert.Equal([1, 2, 3], IterationRow.ReadCsv(path).Select(r => r.Iteration));

        File.WriteAllText(path, string.Join('\n', whole[0], whole[1], "2,x" + whole[2][1..], whole[3]) + "\n");
        var e = Assert.Throws<RoutingInputException>(() => IterationRow.ReadCsv(path).ToList());
        Assert.Equal($"{path} line 3 has 30 fields where an iterations row has 29.", e.Message);
        File.WriteAllText(path, whole[0]);
        Assert.Empty(IterationRow.ReadCsv(path));
    }

    [Fact]
    public async Task Iterations_missing_from_the_table_the_checkpoint_counts_stop_the_resume_naming_the_file()
    {
        using var tmp = new TempDir();
        using var cts = new CancellationTokenSource();
        await RunWith(new QlearnOptions { Iterations = 10 }, tmp["part"], new QlearnHost(), new CollectingProgress(r => { if (r.Iteration == 3) cts.Cancel(); }), cts.Token);
        var lines = File.ReadAllLines(tmp["part/iterations.csv"]);
        File.WriteAllLines(tmp["part/iterations.csv"], lines[..^1]);
        var e = await Assert.ThrowsAsync<RoutingInputException>(() => RunWith(new QlearnOptions { Iterations = 10 }, tmp["part"], new QlearnHost()));
        Assert.Equal($"{tmp["part/iterations.csv"]} has 3 rows, but the checkpoint counts 4 iterations; the run directory is not one this workbench left.", e.Message);
        // Refused before the run was marked running: it is still the run Ctrl+C stopped.
        Assert.Contains("\"status\": \"killed\"", File.ReadAllText(tmp["part/status.json"]));
    }

    [Fact]
    public async Task A_broken_line_inside_the_call_log_is_named_by_file_and_line()
    {
        using var tmp = new TempDir();
        using var cts = new CancellationTokenSource();
        await RunWith(new QlearnOptions { Iterations = 10 }, tmp["part"], new QlearnHost(), new CollectingProgress(r => { if (r.Iteration == 3) cts.Cancel(); }), cts.Token);
        var lines = File.ReadAllLines(tmp["part/artifacts/calls.jsonl"]);
        lines[2] = "{\"iteration\": 2, \"purpo";
        File.WriteAllLines(tmp["part/artifacts/calls.jsonl"], lines);
        var e = await Assert.ThrowsAsync<RoutingInputException>(() => QlearnSession.RunAsync(
            new QlearnRequest { Options = new QlearnOptions(), ResumeDirectory = tmp["part"], RunsRoot = tmp["root"] }, new CollectingProgress(), CancellationToken.None));
        Assert.Equal($"{tmp["part/artifacts/calls.jsonl"]} line 3 is not a call record; the file is not a call log this workbench wrote.", e.Message);
    }

    [Theory]
    [InlineData("learner", "\"ucb1\"", "The saved coordinator is 'ucb1', not 'base'.")]
    [InlineData("rows", "2", "The Q-table in the snapshot needs one row of 8 finite values per state.")]
    public async Task A_checkpoint_whose_coordinator_does_not_fit_is_refused_naming_the_file_and_leaves_the_run_as_it_was(string field, string value, string problem)
    {
        using var tmp = new TempDir();
        using var cts = new CancellationTokenSource();
        await RunWith(new QlearnOptions { Iterations = 10 }, tmp["part"], new QlearnHost(), new CollectingProgress(r => { if (r.Iteration == 3) cts.Cancel(); }), cts.Token);
        var checkpoint = tmp["part/artifacts/checkpoint.json"];
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(checkpoint))!.AsObject();
        var coordinator = json["coordinator"]!.AsObject();
        if (field == "rows")
            coordinator["qTable"]!["values"]!.AsArray().RemoveAt(int.Parse(value));
        else
            coordinator[field] = System.Text.Json.Nodes.JsonNode.Parse(value);
        File.WriteAllText(checkpoint, json.ToJsonString());
        var before = Directory.GetFiles(tmp["part"], "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(RunLock.FileName)).ToDictionary(f => f, File.ReadAllText);

        var e = await Assert.ThrowsAsync<RoutingInputException>(() => QlearnSession.RunAsync(
            new QlearnRequest { Options = new QlearnOptions { Iterations = 20 }, ResumeDirectory = tmp["part"], RunsRoot = tmp["root"] }, new CollectingProgress(), CancellationToken.None));

        Assert.Equal($"{checkpoint} is not a usable qlearn checkpoint: {problem}", e.Message);
        // A refused resume leaves the run Ctrl+C stopped as it was: status, settings and rows.
        foreach (var (file, text) in before)
            Assert.Equal(text, File.ReadAllText(file));
    }
}
