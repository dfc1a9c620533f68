using System.Text.Json.Nodes;

namespace RLWorkbench.Tracking.Tests;

public sealed class RunStoreTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private sealed record PpoConfig(int Seed, double LearningRate, int[] Layers, EnvConfig Env, string? Note);

    private sealed record EnvConfig(int Agents, bool Threaded);

    [Fact]
    public void WriteConfig_records_the_configuration_flattened_as_parameters()
    {
        var clock = new FixedClock(Start);
        var store = new RunStore(temp.Path) { Clock = clock };
        using var run = store.Create("ppo");
        run.WriteConfig(new PpoConfig(7, 0.0003, [64, 64], new EnvConfig(4, true), null));

        var parameters = run.ReadParams();
        Assert.Equal("7", parameters["seed"]);
        Assert.Equal("0.0003", parameters["learningRate"]);
        Assert.Equal("[64,64]", parameters["layers"]);
        Assert.Equal("4", parameters["env.agents"]);
        Assert.Equal("true", parameters["env.threaded"]);
        Assert.Equal("null", parameters["note"]);
        Assert.Equal(6, parameters.Count);
    }

    [Fact]
    public void Flatten_handles_nesting_and_leaves_strings_unquoted()
    {
        var flat = RunParameters.Flatten(JsonNode.Parse("""{"a":{"b":{"c":"x y"}},"d":[{"e":1}],"f":-1.5e-7}"""));
        Assert.Equal(new Dictionary<string, string> { ["a.b.c"] = "x y", ["d"] = """[{"e":1}]""", ["f"] = "-1.5e-7" }, flat);
    }

    [Fact]
    public void Versions_include_TorchSharp_only_when_the_caller_gives_it()
    {
        var with = RunStore.DefaultVersions("0.107.0");
        Assert.Equal("0.107.0", with["torchsharp"]);
        Assert.Equal(Environment.Version.ToString(), with["dotnet"]);
        Assert.True(with.ContainsKey("workbench"));
        Assert.False(RunStore.DefaultVersions(null).ContainsKey("torchsharp"));
        Assert.False(RunStore.DefaultVersions().ContainsKey("torchsharp"));
    }

    [Fact]
    public void Finish_takes_the_end_time_from_the_store_clock()
    {
        var clock = new FixedClock(Start);
        var store = new RunStore(temp.Path) { Clock = clock };
        using var run = store.Create("ppo");
        Assert.Equal("ppo-20250301-120000", run.Id);
        clock.Now = Start.AddMinutes(5);
        run.Finish(RunStatus.Finished);

        var read = RunReader.Read(run.Directory);
        Assert.Equal(RunStatus.Finished, read.Info.Status);
        Assert.Equal(TimeSpan.FromMinutes(5), read.Duration(clock.Now));
    }

    [Fact]
    public void A_mirrored_run_fans_params_tags_rows_artifacts_and_the_end_out_to_its_sink()
    {
        var mirror = new RecordingMirror();
        var store = new RunStore(temp.Path) { Clock = new FixedClock(Start), Mirror = mirror };
        var run = store.Create("ppo");
        run.WriteConfig(new EnvConfig(3, false));
        run.SetTag("purpose", "test");
        var table = run.Table("metrics", ["step", "ep_rew_mean"]);
        table.AppendRow(128, 1.5);
        table.Append([new("step", 256), new("ep_rew_mean", 2.5)]);
        File.WriteAllText(run.ArtifactPath("models/final.bin"), "weights");
        run.LogArtifact("models/final.bin");
        run.Finish(RunStatus.Finished);
        run.Dispose();

        var sink = Assert.Single(mirror.Sinks);
        Assert.Equal("3", sink.Params.Single()["agents"]);
        Assert.Equal("test", sink.Tags.Single()["purpose"]);
        Assert.Equal([0L, 1L], sink.Rows.Select(r => r.Index));
        Assert.All(sink.Rows, r => Assert.Equal("metrics", r.Table));
        Assert.Equal([256, 2.5], sink.Rows[1].Values.Select(v => RunParameters.ToMetric(v)!.Value));
        Assert.Equal(["models/final.bin"], sink.Artifacts);
        Assert.Equal(RunStatus.Finished, Assert.Single(sink.Finished).Status);
        Assert.True(sink.Disposed);
    }

    [Fact]
    public void Row_numbers_continue_when_a_run_is_reopened_to_resume()
    {
        var store = new RunStore(temp.Path) { Clock = new FixedClock(Start) };
        string dir;
        using (var run = store.Create("qlearn"))
        {
            var t = run.Table("iterations", ["iteration", "raw_reward"]);
            t.AppendRow(0, 0.1);
            t.AppendRow(1, 0.2);
            run.Finish(RunStatus.Killed);
            dir = run.Directory;
        }
        var mirror = new RecordingMirror();
        var mirrored = new RunStore(temp.Path) { Mirror = mirror };
        using (var resumed = mirrored.Reopen(dir))
        {
            resumed.MarkRunning();
            resumed.Table("iterations", ["iteration", "raw_reward"]).AppendRow(2, 0.3);
            resumed.Finish(RunStatus.Finished);
        }
        Assert.Equal(2L, Assert.Single(Assert.Single(mirror.Sinks).Rows).Index);
        Assert.Equal(3, RunReader.Read(dir).RequireTable("iterations").RowCount);
    }

    [Fact]
    public void LogArtifact_refuses_a_file_that_is_not_there()
    {
        using var run = new RunStore(temp.Path).Create("ppo");
        Assert.Throws<FileNotFoundException>(() => run.LogArtifact("missing.png"));
    }

    [Fact]
    public void DropRowsAfter_cuts_each_table_at_its_step_and_lowers_what_mlflow_counts_as_sent()
    {
        var store = new RunStore(temp.Path) { Clock = new FixedClock(Start) };
        string directory;
        using (var run = store.Create("ppo"))
        {
            directory = run.Directory;
            var metrics = run.Table("metrics", ["step", "ep_rew_mean"]);
            foreach (var step in new[] { 8192, 16384, 24576 })
                metrics.AppendRow(step, step / 100.0);
            var episodes = run.Table("episodes", ["step", "env", "return"]);
            foreach (var step in new[] { 200, 10000, 20000, 20000 })
                episodes.AppendRow(step, 0, 1.5);
            run.Finish(RunStatus.Killed);
        }
        new Mlflow.MlflowSyncState { TrackingUri = "http://127.0.0.1:5000", RowsSent = { ["metrics"] = 3, ["episodes"] = 1 } }.Save(directory);

        RunStore.DropRowsAfter(directory, 16384, "metrics", "episodes", "eval");

        Assert.Equal(["step,ep_rew_mean", "8192,81.92", "16384,163.84"], File.ReadAllLines(Path.Combine(directory, "metrics.csv")));
        Assert.Equal(["step,env,return", "200,0,1.5", "10000,0,1.5"], File.ReadAllLines(Path.Combine(directory, "episodes.csv")));
        var state = Mlflow.MlflowSyncState.TryRead(directory)!;
        Assert.Equal(2, state.RowsSent["metrics"]);
        Assert.Equal(1, state.RowsSent["episodes"]);
    }
}
