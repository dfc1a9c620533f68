using System.Diagnostics;
using System.Text.Json.Nodes;
using RLWorkbench.Tracking.Tests;

namespace RLWorkbench.Cli.Tests;

/// <summary>
/// Run directories as separate processes use them: one writer per directory, a dead writer's run shown as stale
/// and resumable, an honest status after Ctrl+C/SIGTERM, MLflow mirroring across a resume, and `runs` itself.
/// </summary>
public sealed class RunsCommandTests : IDisposable
{
    private readonly string temp = Workbench.TempDirectory();

    public void Dispose()
    {
        try
        {
            Directory.Delete(temp, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string Status(string dir) => JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "status.json")))!["status"]!.GetValue<string>();

    private static Workbench.Background StartWith(ProcessStartInfo start)
    {
        var process = Process.Start(start)!;
        return new Workbench.Background(process, process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
    }

    /// <summary>Starts rlw and returns once it has printed a line starting with <paramref name="prefix"/>.</summary>
    private static Process StartUntil(string prefix, params string[] args)
    {
        var process = Process.Start(Workbench.StartInfo(Directory.GetCurrentDirectory(), args))!;
        var seen = new List<string>();
        while (process.StandardOutput.ReadLine() is { } line)
        {
            seen.Add(line);
            if (line.StartsWith(prefix, StringComparison.Ordinal))
                return process;
        }
        process.WaitForExit();
        throw new InvalidOperationException($"rlw {string.Join(' ', args)} ended (exit {process.ExitCode}) before printing '{prefix}':\n{string.Join('\n', seen)}\n{process.StandardError.ReadToEnd()}");
    }

    [Fact]
    public void Two_qlearn_runs_into_one_out_directory_leave_one_run_and_one_refusal()
    {
        var dir = Path.Combine(temp, "same");
        var runs = new[] { "41", "42" }
            .Select(seed => StartWith(Workbench.StartInfo(Directory.GetCurrentDirectory(), "qlearn", "--iterations", "10", "--seed", seed, "--simulated-call-seconds", "0.05", "--out", dir)))
            .ToList();
        var results = runs.Select(r => r.Wait(TimeSpan.FromMinutes(2))).ToList();
        foreach (var r in runs)
            r.Dispose();

        var winner = Assert.Single(results, r => r.ExitCode == 0);
        var loser = Assert.Single(results, r => r.ExitCode != 0);
        // Exit 1, not 2: the command line is right, the directory is busy (or, when the first had already ended, taken).
        Assert.Equal(1, loser.ExitCode);
        var inUse = $"error: {dir} is in use: another run is being written there (a live process holds its run.lock); wait for it to end or choose another directory.";
        var taken = $"error: {dir} already holds a run; choose another --out or resume it.";
        Assert.Contains(loser.Error.Trim(), new[] { inUse, taken });
        Assert.DoesNotContain("Run saved in", loser.Output);

        var seed = results.IndexOf(winner) == 0 ? "41" : "42";
        Assert.Equal(seed, JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "params.json")))!["seed"]!.GetValue<string>());
        Assert.Equal(1 + 10, File.ReadAllLines(Path.Combine(dir, "iterations.csv")).Length);
        Assert.Equal("finished", Status(dir));
    }

    [Fact]
    public async Task A_resume_of_a_run_another_process_is_writing_is_refused_and_the_writer_finishes_alone()
    {
        var dir = Path.Combine(temp, "busy");
        using var writer = StartUntil("[  3/20]", "qlearn", "--iterations", "20", "--simulated-call-seconds", "0.05", "--out", dir);
        var writerOutput = writer.StandardOutput.ReadToEndAsync();
        var writerError = writer.StandardError.ReadToEndAsync();

        var second = Workbench.Run("qlearn", "--resume", dir, "--iterations", "30");
        Assert.Equal(1, second.ExitCode);
        Assert.Equal($"error: {dir} is in use: another run is being written there (a live process holds its run.lock); wait for it to end or choose another directory.", second.Error.Trim());

        Assert.True(writer.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.True(writer.ExitCode == 0, await writerError + await writerOutput);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            File.ReadAllLines(Path.Combine(dir, "iterations.csv")).Skip(1).Select(l => l.Split(',')[0]));
        Assert.Equal("finished", Status(dir));
    }

    [Fact]
    public void A_killed_run_lists_as_stale_and_its_resume_is_not_blocked_by_the_lock_it_left()
    {
        var root = Path.Combine(temp, "runs");
        var dir = Path.Combine(root, "killed");
        using (var process = StartUntil("[  3/40]", "qlearn", "--iterations", "40", "--simulated-call-seconds", "0.1", "--out", dir))
        {
            process.Kill();
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)));
        }
        Assert.Equal("running", Status(dir));

        var list = Workbench.Run("runs", "list", "--root", root);
        Assert.Equal(0, list.ExitCode);
        var lines = list.Output.Split('\n');
        Assert.Matches(@"^killed\s+qlearn\s+stale\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+q-learning\s+42\s+-$", lines[1]);
        Assert.Contains("stale: status.json says running, but no process holds the run", list.Output);
        Assert.Contains("status    stale", Workbench.Run("runs", "show", dir).Output);
        var stale = Workbench.Run("runs", "list", "--root", root, "--status", "stale");
        Assert.StartsWith("killed ", stale.Output.Split('\n')[1]);
        Assert.StartsWith("No runs match; 1 runs under", Workbench.Run("runs", "list", "--root", root, "--status", "running").Output);

        var resumed = Workbench.Run("qlearn", "--resume", dir);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Equal("finished", Status(dir));
        Assert.Matches(@"^killed\s+qlearn\s+finished\s", Workbench.Run("runs", "list", "--root", root).Output.Split('\n')[1]);
    }

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task A_signal_in_env_run_ends_it_after_the_episode_with_status_killed(string signal)
    {
        var dir = Path.Combine(temp, "env-" + signal);
        int episodes;
        using (var process = StartUntil("  episode   3:", "env", "run", "--episodes", "10000", "--out", dir))
        {
            var error = process.StandardError.ReadToEndAsync();
            Workbench.Signal(process.Id, signal);
            var rest = process.StandardOutput.ReadToEnd();
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)));
            Assert.Equal(1, process.ExitCode);
            episodes = File.ReadAllLines(Path.Combine(dir, "episodes.csv")).Length - 1;
            Assert.Contains($"Stopped after {episodes} of 10000 episodes; they are in {dir}.", await error);
            Assert.DoesNotContain("Return over", rest);
        }
        Assert.InRange(episodes, 3, 9999);
        var status = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "status.json")))!;
        Assert.Equal("killed", status["status"]!.GetValue<string>());
        Assert.Equal($"stopped by a signal after {episodes} of 10000 episodes (in episodes.csv); no summary was written", status["message"]!.GetValue<string>());
        Assert.NotNull(status["endedUtc"]);
        Assert.False(File.Exists(Path.Combine(dir, "summary.json")));
    }

    [Fact]
    public void Runs_sync_pushes_an_out_run_by_its_path_and_says_how_when_given_an_id_it_cannot_find()
    {
        using var server = new FakeMlflowServer();
        var dir = Path.Combine(temp, "elsewhere", "ones");
        Assert.Equal(0, Workbench.Run("env", "run", "--policy", "ones", "--episodes", "3", "--out", dir).ExitCode);

        var byId = Workbench.RunWith(WithMlflow(server, "runs", "sync", "ones", "--root", Path.Combine(temp, "runs")), TimeSpan.FromMinutes(1));
        Assert.Equal(2, byId.ExitCode);
        Assert.Equal($"error: No run 'ones': give a run directory or the id of a run under {Path.Combine(temp, "runs")}.", byId.Error.Trim());

        var byPath = Workbench.RunWith(WithMlflow(server, "runs", "sync", dir), TimeSpan.FromMinutes(1));
        Assert.True(byPath.ExitCode == 0, byPath.Error);
        Assert.StartsWith($"ones -> MLflow at {server.BaseUri.ToString().TrimEnd('/')}, experiment 'Default', run ", byPath.Output);
        var run = server.SingleRun();
        Assert.Equal("FINISHED", run.Status);
        Assert.Equal([1L, 2, 3], run.Metrics.Where(m => m.Key == "episodes/return").Select(m => m.Step));
    }

    [Fact]
    public void A_resumed_qlearn_run_keeps_mirroring_to_mlflow()
    {
        using var server = new FakeMlflowServer();
        var dir = Path.Combine(temp, "mirrored");
        var first = Workbench.RunWith(WithMlflow(server, "qlearn", "--iterations", "3", "--out", dir), TimeSpan.FromMinutes(2));
        Assert.True(first.ExitCode == 0, first.Error);
        var resumed = Workbench.RunWith(WithMlflow(server, "qlearn", "--resume", dir, "--iterations", "6"), TimeSpan.FromMinutes(2));
        Assert.True(resumed.ExitCode == 0, resumed.Error);

        var run = server.SingleRun();
        Assert.Equal([1L, 2, 3, 4, 5, 6], run.Metrics.Where(m => m.Key == "iterations/raw_reward").Select(m => m.Step).Order());
        Assert.Equal("FINISHED", run.Status);
        // MLflow keeps a param's first value; the resumed run's larger total is a tag, and nothing is left unsent.
        Assert.Equal("3", run.Params["iterations"]);
        Assert.Equal("6", run.Tags["rlw.param_now.iterations"]);
        Assert.DoesNotContain("warning", resumed.Error);
        var state = File.ReadAllText(Path.Combine(dir, "mlflow.json"));
        Assert.True(JsonNode.Parse(state)!["complete"]!.GetValue<bool>(), state + resumed.Error);
    }

    [Fact]
    public void Runs_list_refuses_a_status_that_does_not_exist_with_one_sentence()
    {
        var r = Workbench.Run("runs", "list", "--root", temp, "--status", "done");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("error: --status 'done' is not a run status; allowed: running, stale, finished, failed, killed, unreadable.", r.Error.Trim());
    }

    private static ProcessStartInfo WithMlflow(FakeMlflowServer server, params string[] args)
    {
        var start = Workbench.StartInfo(Directory.GetCurrentDirectory(), args);
        start.Environment["MLFLOW_TRACKING_URI"] = server.BaseUri.ToString();
        return start;
    }
}
