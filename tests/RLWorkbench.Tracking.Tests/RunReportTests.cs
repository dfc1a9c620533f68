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
        Assert.Equal("id                      kind    status    start (UTC)          duration    algorithm  seed  final", lines[0]);
        Assert.Equal("qlearn-20250301-140000  qlearn  running   2025-03-01 14:00:00  1m 05s      -          -     -", lines[1]);
        Assert.Equal("ppo-20250301-120000     ppo     finished  2025-03-01 12:00:00  1h 02m 03s  ppo        -     -", lines[2]);
        Assert.Equal(3, lines.Length);
        running.Finish(RunStatus.Finished);
        running.Dispose();
    }

    /// <summary>One finished run of each kind, recording what the workbench's commands record.</summary>
    private void WriteOneRunOfEachKind()
    {
        var store = new RunStore(temp.Path) { Clock = new FixedClock(Start), Mirror = null };
        void Write(string kind, DateTimeOffset started, object config, string file, object scores)
        {
            using var run = store.Create(kind, now: started);
            run.WriteConfig(config);
            run.WriteJson(file, scores);
            run.Finish(RunStatus.Finished);
        }
        Write("ppo", Start, new { steps = 1000, ppo = new { seed = 3, distribution = "beta" } }, "scores.json",
            new { scoreName = "deterministic evaluation mean return (100 episodes)", final = 1234.5678, best = 1300.0 });
        Write("qlearn", Start.AddMinutes(1), new { algorithm = "ucb1", learner = "base", seed = 41 }, "scores.json",
            new { scoreName = "exact expected reward per task of the greedy routing (oracle 0.7878)", final = 0.61800286, best = 0.63 });
        Write("qlearn", Start.AddMinutes(2), new { algorithm = "q-learning", learner = "load-balanced", seed = 42 }, "scores.json",
            new { scoreName = "exact expected reward per task of the greedy routing (oracle 0.7878)", final = (double?)null, best = (double?)null });
        Write("env-run", Start.AddMinutes(3), new { policy = "ones", episodes = 5, seed = 0 }, "summary.json",
            new { mean = 1457.4, std = 30.0 });
        Write("compare", Start.AddMinutes(4), new { learners = new[] { "qlearn", "ppo-seed", "oracle" }, seeds = 10, firstSeed = 1 }, "scores.json",
            new { scoreName = "qlearn: exact expected reward per task of its greedy policy at the end of the budget, mean over 10 seeds", final = 0.7, best = 0.71 });
    }

    [Fact]
    public void List_tells_runs_of_a_kind_apart_by_algorithm_seed_and_final_score_and_names_each_score()
    {
        WriteOneRunOfEachKind();
        var text = new StringWriter();
        RunReport.WriteList(text, RunReader.List(temp.Path), Start.AddDays(1));

        Assert.Equal(
            """
            id                       kind     status    start (UTC)          duration  algorithm                   seed  final
            compare-20250301-120400  compare  finished  2025-03-01 12:04:00  0.0s      qlearn +2                   1-10  0.7
            env-run-20250301-120300  env-run  finished  2025-03-01 12:03:00  0.0s      ones                        0     1457
            qlearn-20250301-120200   qlearn   finished  2025-03-01 12:02:00  0.0s      q-learning (load-balanced)  42    -
            qlearn-20250301-120100   qlearn   finished  2025-03-01 12:01:00  0.0s      ucb1                        41    0.618
            ppo-20250301-120000      ppo      finished  2025-03-01 12:00:00  0.0s      ppo (beta)                  3     1235

            final (from each run's scores.json; env-run: summary.json; - until the run finishes):
              compare: qlearn: exact expected reward per task of its greedy policy at the end of the budget, mean over 10 seeds
              env-run: mean return over its episodes
              ppo: deterministic evaluation mean return (100 episodes)
              qlearn: exact expected reward per task of the greedy routing (oracle 0.7878)

            """.ReplaceLineEndings("\n"),
            text.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void The_list_filter_keeps_runs_of_a_kind_a_status_or_containing_a_text()
    {
        WriteOneRunOfEachKind();
        var all = RunReader.List(temp.Path);
        string[] Ids(RunListFilter filter) => filter.Apply(all).Select(r => r.Info!.Id).ToArray();

        Assert.Equal(["qlearn-20250301-120200", "qlearn-20250301-120100"], Ids(new RunListFilter(Kind: "QLearn")));
        Assert.Equal(["qlearn-20250301-120100"], Ids(new RunListFilter(Text: "UCB")));
        Assert.Equal(["env-run-20250301-120300"], Ids(new RunListFilter(Text: "env-run")));
        Assert.Empty(Ids(new RunListFilter(Kind: "ppo", Status: "running")));
        Assert.Equal(5, Ids(new RunListFilter(Status: "finished")).Length);
        Assert.Null(new RunListFilter(Status: "Stale").Problem());
        Assert.Equal("--status 'done' is not a run status; allowed: running, stale, finished, failed, killed, unreadable.", new RunListFilter(Status: "done").Problem());
    }

    [Fact]
    public void Show_prints_the_runs_scores_and_summary()
    {
        string dir;
        using (var run = new RunStore(temp.Path) { Clock = new FixedClock(Start), Mirror = null }.Create("qlearn"))
        {
            run.WriteJson("scores.json", new { scoreName = "exact expected reward", final = 0.618, work = 10 });
            run.WriteJson("summary.json", new { learner = "base", meanRawReward = 0.6024717075488122, calls = new { totalCalls = 20 }, routing = new[] { new { state = "analysis", action = "analyst/anthropic" } } });
            run.Finish(RunStatus.Finished);
            dir = run.Directory;
        }
        var text = new StringWriter();
        Assert.Empty(RunReport.WriteShow(text, RunReader.Read(dir), Start));
        var s = text.ToString().ReplaceLineEndings("\n");
        Assert.Contains("\nscores.json (3 values):\n  final      0.618\n  scoreName  exact expected reward\n  work       10\n", s);
        Assert.Contains("\nsummary.json (4 values):\n  calls.totalCalls  20\n  learner           base\n  meanRawReward     0.602472\n  routing           [{\"state\":\"analysis\",\"action\":\"analyst/anthropic\"}]\n", s);
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
