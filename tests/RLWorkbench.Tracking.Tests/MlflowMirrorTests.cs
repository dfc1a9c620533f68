using RLWorkbench.Tracking.Mlflow;

namespace RLWorkbench.Tracking.Tests;

public sealed class MlflowMirrorTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly FakeMlflowServer server = new();
    private readonly TempDirectory temp = new();
    private readonly List<string> warnings = [];
    private readonly FixedClock clock = new(Start);

    public void Dispose()
    {
        server.Dispose();
        temp.Dispose();
    }

    private MlflowClient Client(string? token = null) => new(
        new MlflowOptions
        {
            TrackingUri = server.BaseUri,
            ExperimentName = "phase1",
            Token = token,
            RetryDelays = [TimeSpan.Zero, TimeSpan.Zero],
            FlushInterval = TimeSpan.FromMilliseconds(5),
            FinishTimeout = TimeSpan.FromSeconds(10),
        },
        delay: (_, _) => Task.CompletedTask);

    private RunStore Store(MlflowClient client) => new(temp.Path)
    {
        Clock = clock,
        Mirror = new MlflowMirror(client, w =>
        {
            lock (warnings)
                warnings.Add(w);
        }, clock),
    };

    private static readonly string[] MetricsColumns = ["step", "time_s", "ep_rew_mean", "approx_kl"];
    private static readonly string[] EvalColumns = ["step", "mean_reward", "std_reward"];

    private static Run WriteSmallPpoRun(RunStore store)
    {
        var run = store.Create("ppo", RunStore.DefaultVersions("0.107.0"));
        run.WriteConfig(new { seed = 3, ppo = new { learningRate = 0.0003 } });
        run.SetTag("purpose", "mirror test");
        var metrics = run.Table("metrics", MetricsColumns);
        for (var i = 1; i <= 5; i++)
            metrics.AppendRow(i * 128, i * 1.5, i * 0.25, i == 3 ? null : 0.01 * i);
        run.Table("eval", EvalColumns).AppendRow(640, 4.5, 0.5);
        File.WriteAllText(run.ArtifactPath("models/final.json"), "{}");
        return run;
    }

    [Fact]
    public void A_run_created_through_the_store_appears_in_MLflow_with_everything_it_logged()
    {
        using var client = Client(token: "tok-123-secret");
        string dir;
        using (var run = WriteSmallPpoRun(Store(client)))
        {
            clock.Now = Start.AddMinutes(2);
            run.Finish(RunStatus.Finished);
            dir = run.Directory;
        }

        var mlflowRun = server.SingleRun();
        Assert.Equal(server.Experiments["phase1"], mlflowRun.ExperimentId);
        Assert.Equal("ppo-20250301-120000", mlflowRun.Name);
        Assert.Equal(Start.ToUnixTimeMilliseconds(), mlflowRun.StartTime);
        Assert.Equal("ppo", mlflowRun.Tags["rlw.kind"]);
        Assert.Equal("0.107.0", mlflowRun.Tags["rlw.version.torchsharp"]);
        Assert.Equal("mirror test", mlflowRun.Tags["purpose"]);
        Assert.Equal("3", mlflowRun.Params["seed"]);
        Assert.Equal("0.0003", mlflowRun.Params["ppo.learningRate"]);
        Assert.Equal([(128L, 0.25), (256, 0.5), (384, 0.75), (512, 1.0), (640, 1.25)], mlflowRun.Metrics.Where(m => m.Key == "ep_rew_mean").Select(m => (m.Step, m.Value)));
        // The empty approx_kl cell of step 384 is no value, not a zero.
        Assert.Equal([128L, 256, 512, 640], mlflowRun.Metrics.Where(m => m.Key == "approx_kl").Select(m => m.Step));
        Assert.DoesNotContain(mlflowRun.Metrics, m => m.Key == "step");
        Assert.Equal([(640L, 4.5)], mlflowRun.Metrics.Where(m => m.Key == "eval/mean_reward").Select(m => (m.Step, m.Value)));
        Assert.All(mlflowRun.Metrics, m => Assert.Equal(Start.ToUnixTimeMilliseconds(), m.Timestamp));
        Assert.Equal("{}"u8.ToArray(), server.Artifacts[$"{mlflowRun.ExperimentId}/run1/artifacts/models/final.json"]);
        Assert.Equal("FINISHED", mlflowRun.Status);
        Assert.Equal(Start.AddMinutes(2).ToUnixTimeMilliseconds(), mlflowRun.EndTime);
        Assert.Empty(warnings);

        var state = MlflowSyncState.TryRead(dir)!;
        Assert.True(state.Complete);
        Assert.Equal(5, state.RowsSent["metrics"]);
        Assert.Equal(1, state.RowsSent["eval"]);
        Assert.All(server.Snapshot(), r => Assert.Equal("Bearer tok-123-secret", r.Authorization));
        foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
            Assert.DoesNotContain("tok-123-secret", File.ReadAllText(file));
    }

    [Fact]
    public void The_warning_for_a_run_written_outside_the_runs_root_names_it_by_path_quoted_for_the_shell()
    {
        server.Down = true;
        using var client = Client();
        // Where --out puts a run: its id is no run under the store's root, so only the path finds it.
        var dir = temp.Combine("elsewhere", "seed 41");
        using (var run = Store(client).CreateIn(dir, "qlearn"))
            run.Finish(RunStatus.Finished);

        var warning = Assert.Single(warnings);
        Assert.EndsWith($"push it later with: rlw runs sync '{dir}'", warning);
        Assert.Equal("rlw runs sync '/tmp/it'\\''s here'", RunSync.Command("/tmp/it's here"));
        Assert.Equal("rlw runs sync /tmp/runs/qlearn-1", RunSync.Command("/tmp/runs/qlearn-1"));
    }

    [Fact]
    public async Task Sync_refuses_a_live_running_run_and_pushes_a_stale_one_as_killed()
    {
        using var client = Client();
        var live = new RunStore(temp.Path) { Clock = clock, Mirror = null }.Create("qlearn");
        live.Table("iterations", ["iteration", "raw_reward"]).AppendRow(1, 0.5);
        var refused = await Assert.ThrowsAsync<RunFormatException>(() => RunSync.PushAsync(live.Directory, client));
        Assert.Equal("Run qlearn-20250301-120000 is still running; a running run mirrors itself, sync pushes runs that have ended.", refused.Message);

        // What a killed process leaves: the same files, status.json at running, and nobody holding the run.
        var dead = temp.Combine("killed");
        Directory.CreateDirectory(dead);
        foreach (var file in new[] { RunStore.StatusFile, "iterations.csv" })
            File.Copy(Path.Combine(live.Directory, file), Path.Combine(dead, file));
        var report = await RunSync.PushAsync(dead, client);

        Assert.True(report.Stale);
        Assert.Equal(1, report.RowsSent);
        var mlflowRun = server.SingleRun();
        Assert.Equal("KILLED", mlflowRun.Status);
        Assert.NotNull(mlflowRun.EndTime);
        Assert.Equal([(1L, 0.5)], mlflowRun.Metrics.Where(m => m.Key == "iterations/raw_reward").Select(m => (m.Step, m.Value)));
        Assert.Equal(RunStatus.Running, RunReader.ReadInfo(dead).Status);
        live.Finish(RunStatus.Finished);
        live.Dispose();
    }

    [Fact]
    public async Task When_the_server_is_down_the_run_completes_locally_and_sync_pushes_it_later_without_duplicates()
    {
        server.Down = true;
        using var client = Client();
        string dir;
        using (var run = WriteSmallPpoRun(Store(client)))
        {
            run.Finish(RunStatus.Finished);
            dir = run.Directory;
        }

        Assert.Equal(RunStatus.Finished, RunReader.Read(dir).Info.Status);
        Assert.Equal(5, RunReader.Read(dir).RequireTable("metrics").RowCount);
        var warning = Assert.Single(warnings);
        Assert.Contains("TEMPORARILY_UNAVAILABLE", warning);
        Assert.EndsWith($"push it later with: rlw runs sync {dir}", warning);
        var pending = MlflowSyncState.TryRead(dir)!;
        Assert.False(pending.Complete);
        Assert.NotNull(pending.LastError);

        server.Down = false;
        var report = await RunSync.PushAsync(dir, client);
        Assert.Equal(6, report.RowsSent);
        Assert.Equal(1, report.ArtifactsUploaded);
        Assert.Empty(report.Errors);
        var mlflowRun = server.SingleRun();
        Assert.Equal(5, mlflowRun.Metrics.Count(m => m.Key == "ep_rew_mean"));
        // Rows keep their logging time: start + time_s.
        Assert.Equal(Start.AddSeconds(3 * 1.5).ToUnixTimeMilliseconds(), mlflowRun.Metrics.Single(m => m.Key == "ep_rew_mean" && m.Step == 384).Timestamp);
        Assert.Equal("FINISHED", mlflowRun.Status);
        Assert.Equal("3", mlflowRun.Params["seed"]);
        Assert.True(MlflowSyncState.TryRead(dir)!.Complete);

        var again = await RunSync.PushAsync(dir, client);
        Assert.Equal(0, again.RowsSent);
        Assert.Equal(0, again.ArtifactsUploaded);
        Assert.Equal(5, server.SingleRun().Metrics.Count(m => m.Key == "ep_rew_mean"));
    }

    [Fact]
    public async Task A_server_lost_mid_run_leaves_exactly_the_unsent_rows_for_sync()
    {
        using var client = Client();
        string dir;
        using (var run = Store(client).Create("qlearn"))
        {
            var table = run.Table("iterations", ["iteration", "raw_reward", "task_type"]);
            table.AppendRow(0, 0.5, "code");
            table.AppendRow(1, 0.6, "math");
            SpinWait.SpinUntil(() => MlflowSyncState.TryRead(run.Directory)?.RowsSent.GetValueOrDefault("iterations") == 2, TimeSpan.FromSeconds(5));
            server.Down = true;
            table.AppendRow(2, 0.7, "code");
            table.AppendRow(3, 0.8, "code");
            run.Finish(RunStatus.Finished);
            dir = run.Directory;
        }
        Assert.Equal(2, MlflowSyncState.TryRead(dir)!.RowsSent["iterations"]);
        Assert.Single(warnings);

        server.Down = false;
        var report = await RunSync.PushAsync(dir, client);
        Assert.Equal(2, report.RowsSent);
        Assert.Equal([(0L, 0.5), (1, 0.6), (2, 0.7), (3, 0.8)], server.SingleRun().Metrics.Where(m => m.Key == "iterations/raw_reward").Select(m => (m.Step, m.Value)));
        Assert.DoesNotContain(server.SingleRun().Metrics, m => m.Key == "iterations/task_type");
    }

    [Fact]
    public void A_param_changed_on_resume_keeps_its_first_value_in_MLflow_and_the_new_value_goes_in_a_tag()
    {
        using var client = Client();
        var store = Store(client);
        string dir;
        using (var run = store.Create("ppo"))
        {
            run.WriteConfig(new { totalSteps = 1000, seed = 3 });
            run.Finish(RunStatus.Killed);
            dir = run.Directory;
        }
        using (var resumed = store.Reopen(dir))
        {
            resumed.MarkRunning();
            resumed.WriteConfig(new { totalSteps = 2000, seed = 3 });
            resumed.Table("metrics", ["step", "ep_rew_mean"]).AppendRow(1, 2.0);
            resumed.Finish(RunStatus.Finished);
        }

        Assert.Empty(warnings);
        var mlflowRun = server.SingleRun();
        Assert.Equal("1000", mlflowRun.Params["totalSteps"]);
        Assert.Equal("2000", mlflowRun.Tags["rlw.param_now.totalSteps"]);
        Assert.False(mlflowRun.Tags.ContainsKey("rlw.param_now.seed"));
        Assert.Equal([2.0], mlflowRun.Metrics.Select(m => m.Value));
        Assert.Equal("FINISHED", mlflowRun.Status);
        Assert.True(MlflowSyncState.TryRead(dir)!.Complete);
    }

    [Fact]
    public void A_param_changed_on_resume_of_a_run_that_does_not_record_what_MLflow_holds_is_reported_readably_and_metrics_still_flow()
    {
        using var client = Client();
        var store = Store(client);
        string dir;
        using (var run = store.Create("ppo"))
        {
            run.WriteConfig(new { totalSteps = 1000 });
            run.Finish(RunStatus.Killed);
            dir = run.Directory;
        }
        // mlflow.json as a workbench that did not record param values left it.
        var state = MlflowSyncState.TryRead(dir)!;
        state.ParamsLogged.Clear();
        state.Save(dir);
        using (var resumed = store.Reopen(dir))
        {
            resumed.MarkRunning();
            resumed.WriteConfig(new { totalSteps = 2000 });
            resumed.Table("metrics", ["step", "ep_rew_mean"]).AppendRow(1, 2.0);
            resumed.Finish(RunStatus.Finished);
        }

        var warning = Assert.Single(warnings);
        Assert.Contains("Changing param values is not allowed. Param with key='totalSteps' was already logged with value='1000'", warning);
        var mlflowRun = server.SingleRun();
        Assert.Equal([2.0], mlflowRun.Metrics.Select(m => m.Value));
        Assert.Equal("FINISHED", mlflowRun.Status);
        Assert.False(MlflowSyncState.TryRead(dir)!.Complete);
    }

    [Fact]
    public void A_tracking_uri_that_cannot_work_is_one_warning_and_no_mirror()
    {
        var seen = new List<string>();
        var mirror = MlflowMirror.FromEnvironment(new Dictionary<string, string> { ["MLFLOW_TRACKING_URI"] = "databricks" }.GetValueOrDefault, seen.Add);
        Assert.Null(mirror);
        Assert.Equal("MLFLOW_TRACKING_URI must be an http:// or https:// address of an MLflow tracking server; file stores and databricks URIs are not supported by this client. Runs are kept locally only.", Assert.Single(seen));
        Assert.Null(MlflowMirror.FromEnvironment(_ => null, seen.Add));
        Assert.Single(seen);
    }
}
