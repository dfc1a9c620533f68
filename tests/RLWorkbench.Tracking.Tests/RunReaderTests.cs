namespace RLWorkbench.Tracking.Tests;

public sealed class RunReaderTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private sealed record Config(int Seed, double Gamma);

    [Fact]
    public void A_run_round_trips_through_the_reader()
    {
        var clock = new FixedClock(Start);
        string dir;
        using (var run = new RunStore(temp.Path) { Clock = clock }.Create("ppo", RunStore.DefaultVersions("0.107.0")))
        {
            run.WriteConfig(new Config(3, 0.99));
            run.SetTag("experiment", "smoke");
            var metrics = run.Table("metrics", ["step", "ep_rew_mean", "approx_kl"]);
            metrics.AppendRow(128, -1.25, 0.01);
            metrics.AppendRow(256, 0.5, null);
            var iterations = run.Table("iterations", ["iteration", "task_type", "parse_failure"]);
            iterations.AppendRow(0, "code, then test", true);
            File.WriteAllText(run.ArtifactPath("plots/x.png"), "png");
            clock.Now = Start.AddSeconds(90);
            run.Finish(RunStatus.Finished, "done");
            dir = run.Directory;
        }

        var read = RunReader.Read(dir);
        Assert.Equal("ppo", read.Kind);
        Assert.Equal(RunStatus.Finished, read.Info.Status);
        Assert.Equal("done", read.Info.Message);
        Assert.Equal("smoke", read.Info.Tags["experiment"]);
        Assert.Equal("0.107.0", read.Info.Versions["torchsharp"]);
        Assert.Equal(0.99, read.Config!["gamma"]!.GetValue<double>());
        Assert.Equal("3", read.Parameters["seed"]);
        Assert.Equal(["iterations", "metrics"], read.TableNames);
        Assert.Equal(["plots/x.png"], read.Artifacts);
        Assert.Empty(read.Problems);

        var m = read.RequireTable("metrics");
        Assert.Equal([128.0, 256.0], m.Steps());
        Assert.Equal([-1.25, 0.5], m.Numbers("ep_rew_mean"));
        Assert.True(double.IsNaN(m.Numbers("approx_kl")[1]));
        var it = read.RequireTable("iterations");
        Assert.Equal(["code, then test"], it.Strings("task_type"));
        Assert.Equal([1.0], it.Numbers("parse_failure"));
        Assert.Null(read.Table("eval"));
    }

    [Fact]
    public void A_directory_without_status_json_is_not_a_run()
    {
        Directory.CreateDirectory(temp.Combine("half"));
        File.WriteAllText(temp.Combine("half", "metrics.csv"), "step\n1\n");
        var e = Assert.Throws<RunFormatException>(() => RunReader.Read(temp.Combine("half")));
        Assert.Contains("no status.json", e.Message);
        Assert.Throws<RunFormatException>(() => RunReader.Read(temp.Combine("nowhere")));
    }

    [Fact]
    public void A_crashed_run_is_read_as_far_as_it_got()
    {
        var dir = temp.Combine("crashed");
        using (var run = RunStore.CreateAt(dir, "ppo", now: Start))
        {
            run.Table("metrics", ["step", "ep_rew_mean"]).AppendRow(128, 1.0);
        }
        // The process died in the middle of writing the second row.
        File.AppendAllText(Path.Combine(dir, "metrics.csv"), "256,0.7");

        var read = RunReader.Read(dir);
        var table = read.RequireTable("metrics");
        Assert.Equal(1, table.RowCount);
        Assert.Contains(read.Problems, p => p.Contains("config.json is missing"));
        Assert.Contains(read.Problems, p => p.Contains("cut short"));
        Assert.Equal(RunStatus.Failed, read.Info.Status);
    }

    [Fact]
    public void A_malformed_table_gives_one_sentence_naming_file_and_line()
    {
        var dir = temp.Combine("bad");
        using (var run = RunStore.CreateAt(dir, "ppo", now: Start))
        {
            run.Finish(RunStatus.Finished);
        }
        File.WriteAllText(Path.Combine(dir, "metrics.csv"), "step,ep_rew_mean\n1,2\n3\n5,6\n");
        var e = Assert.Throws<RunFormatException>(() => RunReader.Read(dir).RequireTable("metrics"));
        Assert.Equal("metrics.csv line 3 has 1 fields where the header has 2; the file is not a table this workbench wrote.", e.Message);

        File.WriteAllText(Path.Combine(dir, "eval.csv"), "step,mean_reward\n1,abc\n");
        var notNumber = Assert.Throws<RunFormatException>(() => RunReader.Read(dir).RequireTable("eval").Numbers("mean_reward"));
        Assert.Contains("'abc' is not a number", notNumber.Message);
    }

    [Fact]
    public void A_run_from_an_older_version_without_tags_or_versions_still_reads()
    {
        var dir = temp.Combine("old");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "status.json"), """{"id":"old","kind":"env-run","status":"finished","startedUtc":"2024-01-01T00:00:00+00:00"}""");
        var read = RunReader.Read(dir);
        Assert.Empty(read.Info.Tags);
        Assert.Empty(read.Info.Versions);
        Assert.Contains(read.Problems, p => p.Contains("older workbench"));
        Assert.Empty(read.Parameters);
    }

    [Fact]
    public void List_puts_the_newest_first_and_keeps_unreadable_runs_visible()
    {
        using (var a = new RunStore(temp.Path).Create("ppo", now: Start))
        {
            a.Finish(RunStatus.Finished);
        }
        using (var b = new RunStore(temp.Path).Create("qlearn", now: Start.AddHours(1)))
        {
            b.Finish(RunStatus.Finished);
        }
        Directory.CreateDirectory(temp.Combine("broken"));
        File.WriteAllText(temp.Combine("broken", "status.json"), "{not json");
        Directory.CreateDirectory(temp.Combine("not-a-run"));

        var list = RunReader.List(temp.Path);
        Assert.Equal(["qlearn-20250301-130000", "ppo-20250301-120000", null], list.Select(l => l.Info?.Id));
        Assert.Contains("cannot be read as a run status", list[2].Problem);
    }
}
