namespace RLWorkbench.Tracking.Tests;

public sealed class RunReportTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void List_shows_id_kind_status_start_and_duration()
    {
        var clock = new FixedClock(Start);
        var store = new RunStore(temp.Path) { Clock = clock };
        using (var done = store.Create("ppo"))
        {
            clock.Now = Start.AddSeconds(3723);
            done.Finish(RunStatus.Finished);
        }
        var running = store.Create("qlearn", now: Start.AddHours(2));

        var text = new StringWriter();
        RunReport.WriteList(text, RunReader.List(temp.Path), Start.AddHours(2).AddSeconds(65));
        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("id                      kind    status    start (UTC)          duration", lines[0]);
        Assert.Equal("qlearn-20250301-140000  qlearn  running   2025-03-01 14:00:00  1m 05s", lines[1]);
        Assert.Equal("ppo-20250301-120000     ppo     finished  2025-03-01 12:00:00  1h 02m 03s", lines[2]);
        running.Finish(RunStatus.Finished);
        running.Dispose();
    }

    [Fact]
    public void Show_gives_info_config_last_metrics_and_artifacts()
    {
        var clock = new FixedClock(Start);
        string dir;
        using (var run = new RunStore(temp.Path) { Clock = clock }.Create("ppo"))
        {
            run.WriteConfig(new { seed = 1, ppo = new { clipRange = 0.2 } });
            var m = run.Table("metrics", ["step", "ep_rew_mean"]);
            m.AppendRow(128, 1.0);
            m.AppendRow(256, 2.25);
            File.WriteAllBytes(run.ArtifactPath("models/final.bin"), new byte[2048]);
            clock.Now = Start.AddSeconds(12.5);
            run.Finish(RunStatus.Finished);
            dir = run.Directory;
        }
        var text = new StringWriter();
        RunReport.WriteShow(text, RunReader.Read(dir), Start.AddDays(1));
        var s = text.ToString();
        Assert.Contains("status    finished", s);
        Assert.Contains("duration  12.5s", s);
        Assert.Contains("Configuration (2 parameters):", s);
        Assert.Contains("  ppo.clipRange = 0.2", s);
        Assert.Contains("metrics.csv: 2 rows; last row:", s);
        Assert.Matches(@"\n  ep_rew_mean\s+2\.25\n", s);
        Assert.Contains("  models/final.bin (2.0 KB)", s);
    }
}
