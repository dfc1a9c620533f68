using System.Net;
using System.Net.Sockets;
using RLWorkbench.Experiments.Sweeps;
using RLWorkbench.Tracking;
using RLWorkbench.Tracking.Mlflow;
using RLWorkbench.Tracking.Tests;

namespace RLWorkbench.Experiments.Tests;

public sealed class SweepTrackingTests : IDisposable
{
    private static readonly DateTimeOffset End = new(2025, 3, 1, 13, 30, 0, TimeSpan.Zero);
    private readonly FakeMlflowServer server = new();
    private readonly List<string> warnings = [];

    public void Dispose() => server.Dispose();

    private MlflowClient Client(Uri? uri = null) => new(
        new MlflowOptions
        {
            TrackingUri = uri ?? server.BaseUri,
            ExperimentName = "sweeps",
            RetryDelays = [],
            FlushInterval = TimeSpan.FromMilliseconds(5),
            FinishTimeout = TimeSpan.FromSeconds(10),
        },
        delay: (_, _) => Task.CompletedTask);

    private void Warn(string message)
    {
        lock (warnings)
            warnings.Add(message);
    }

    private Func<string, string?> Environment(Uri uri) =>
        name => name == MlflowOptions.TrackingUriVariable ? uri.ToString() : null;

    private static SyntheticSweep TwoByTwo() => new("ppo.learningRate", [0.0003, 0.001], [0, 1]);

    /// <summary>What a worker does: create the trial's run (mirrored to MLflow), tag it, finish it.</summary>
    private void RunTrial(SyntheticSweep sweep, MlflowClient client, SweepTrial trial)
    {
        var directory = SweepLayout.TrialDirectory(sweep.Directory, trial);
        var store = new RunStore(Path.GetDirectoryName(directory)!) { Mirror = new MlflowMirror(client, Warn) };
        using var run = store.CreateIn(directory, "ppo", now: SyntheticSweep.Created);
        run.SetTags(SweepTracking.TrialTags(sweep.Directory, sweep.Manifest, trial, Environment(server.BaseUri)));
        run.Finish(RunStatus.Finished);
    }

    [Fact]
    public async Task A_sweep_is_one_parent_run_and_its_trials_are_children_tagged_with_its_id()
    {
        using var sweep = TwoByTwo();
        using var client = Client();
        using var parent = await SweepTracking.StartParentAsync(sweep.Directory, sweep.Manifest, client, Warn, new FixedTime(End));

        var parentRun = server.SingleRun();
        Assert.Equal(parent.RunId, server.Runs.Single().Key);
        Assert.Equal(("lr-scan", "RUNNING", server.Experiments["sweeps"]), (parentRun.Name, parentRun.Status, parentRun.ExperimentId));
        Assert.Equal(("sweep", "lr-scan", "ppo"), (parentRun.Tags["rlw.kind"], parentRun.Tags["sweep.name"], parentRun.Tags["sweep.experiment"]));
        Assert.Equal("ppo.learningRate=0.0003", parentRun.Params["sweep.c00"]);
        Assert.Equal("ppo.learningRate=0.001", parentRun.Params["sweep.c01"]);
        Assert.Equal(("0,1", "ppo.learningRate", "4", "20000"), (parentRun.Params["sweep.seeds"], parentRun.Params["sweep.settingPaths"], parentRun.Params["sweep.trials"], parentRun.Params["steps"]));
        // The varied setting and the seed differ per trial; the parent does not claim one value for them.
        Assert.False(parentRun.Params.ContainsKey("ppo.learningRate") || parentRun.Params.ContainsKey("ppo.seed"));

        var trial = sweep.Trial("c01", 1);
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["sweep.name"] = "lr-scan",
                ["sweep.trial"] = "c01-seed1",
                ["sweep.configuration"] = "c01",
                ["sweep.label"] = "ppo.learningRate=0.001",
                ["sweep.seed"] = "1",
                ["mlflow.parentRunId"] = parent.RunId!,
            },
            SweepTracking.TrialTags(sweep.Directory, sweep.Manifest, trial, Environment(server.BaseUri)));

        RunTrial(sweep, client, trial);
        var child = server.Runs.Single(r => r.Key != parent.RunId).Value;
        Assert.Equal(("c01-seed1", parent.RunId, "c01", "1", parentRun.ExperimentId), (child.Name, child.Tags["mlflow.parentRunId"], child.Tags["sweep.configuration"], child.Tags["sweep.seed"], child.ExperimentId));

        sweep.Write("c00", 0, TrialState.Finished, final: 1400, best: 1450, perSecond: 2500, curve: [(5000, 400), (20000, 1200)]);
        var report = SweepReport.Write(sweep.Directory);
        await parent.FinishAsync(SweepTracking.StatusOf(sweep.Directory, sweep.Manifest, stopped: false), report);
        Assert.Equal(("FAILED", End.ToUnixTimeMilliseconds()), (parentRun.Status, parentRun.EndTime));
        var root = $"{parentRun.ExperimentId}/{parent.RunId}/artifacts/";
        Assert.Equal([root + "learning_curves.png", root + "report.csv", root + "report.md"], server.Artifacts.Keys.Where(k => k.StartsWith(root, StringComparison.Ordinal)).Order());
        Assert.Equal(File.ReadAllBytes(report.MarkdownPath), server.Artifacts[root + "report.md"]);
        Assert.Empty(warnings);
    }

    [Fact]
    public async Task A_resumed_sweep_reuses_its_parent_run()
    {
        using var sweep = TwoByTwo();
        using var client = Client();
        string? first;
        using (var parent = await SweepTracking.StartParentAsync(sweep.Directory, sweep.Manifest, client, Warn, new FixedTime(End)))
        {
            first = parent.RunId;
            await parent.FinishAsync(RunStatus.Killed, null);
        }
        Assert.Equal("KILLED", server.SingleRun().Status);

        using var again = await SweepTracking.StartParentAsync(sweep.Directory, sweep.Manifest, client, Warn, new FixedTime(End));
        Assert.Equal(first, again.RunId);
        Assert.Equal("RUNNING", server.SingleRun().Status);
        Assert.Single(server.Snapshot(), r => r.Path.EndsWith("/runs/create", StringComparison.Ordinal));
        RunTrial(sweep, client, sweep.Trial("c00", 0));
        Assert.Equal(first, server.Runs.Single(r => r.Key != first).Value.Tags["mlflow.parentRunId"]);
        Assert.Empty(warnings);
    }

    [Fact]
    public async Task A_param_changed_on_a_rerun_keeps_its_first_value_and_the_new_one_goes_in_a_tag()
    {
        using var sweep = TwoByTwo();
        using var client = Client();
        string? first;
        using (var parent = await SweepTracking.StartParentAsync(sweep.Directory, sweep.Manifest, client, Warn, new FixedTime(End)))
            first = parent.RunId;
        var firstSteps = server.SingleRun().Params["steps"];
        // The same sweep directory with another base value: MLflow keeps a param's first value and would refuse the change.
        var changed = sweep.Manifest with { BaseConfiguration = SyntheticSweep.PpoConfiguration() };
        changed.BaseConfiguration["steps"] = 30000;

        using var again = await SweepTracking.StartParentAsync(sweep.Directory, changed, client, Warn, new FixedTime(End));
        Assert.Equal(first, again.RunId);
        Assert.Empty(warnings);
        Assert.NotEqual("30000", firstSteps);
        Assert.Equal(firstSteps, server.SingleRun().Params["steps"]);
        Assert.Equal("30000", server.SingleRun().Tags["rlw.param_now.steps"]);
        await again.FinishAsync(RunStatus.Finished, null);
        Assert.Equal("FINISHED", server.SingleRun().Status);
    }

    [Fact]
    public async Task Without_a_tracking_uri_nothing_is_sent_or_recorded()
    {
        using var sweep = TwoByTwo();
        using var parent = await SweepTracking.StartParentAsync(sweep.Directory, sweep.Manifest, _ => null, Warn);

        Assert.False(parent.IsTracked);
        await parent.FinishAsync(RunStatus.Finished, null);
        Assert.False(File.Exists(Path.Combine(sweep.Directory, MlflowSyncState.FileName)));
        Assert.DoesNotContain("mlflow.parentRunId", SweepTracking.TrialTags(sweep.Directory, sweep.Manifest, sweep.Trial("c00", 0), _ => null).Keys);
        Assert.Empty(server.Snapshot());
        Assert.Empty(warnings);
    }

    [Fact]
    public async Task An_unreachable_server_is_a_warning_and_the_sweep_goes_on_untracked()
    {
        using var sweep = TwoByTwo();
        var closed = ClosedPort();
        using var client = Client(closed);
        using var parent = await SweepTracking.StartParentAsync(sweep.Directory, sweep.Manifest, client, Warn, new FixedTime(End));

        Assert.False(parent.IsTracked);
        await parent.FinishAsync(RunStatus.Finished, null);
        var warning = Assert.Single(warnings);
        Assert.StartsWith($"MLflow experiments/get-by-name could not reach {closed.GetLeftPart(UriPartial.Path).TrimEnd('/')}", warning);
        Assert.EndsWith("The sweep goes on without its MLflow parent run; its trials are still mirrored.", warning);
        Assert.DoesNotContain("mlflow.parentRunId", SweepTracking.TrialTags(sweep.Directory, sweep.Manifest, sweep.Trial("c00", 0), Environment(closed)).Keys);
    }

    [Fact]
    public async Task A_worker_mirroring_to_another_server_gets_no_parent_id()
    {
        using var sweep = TwoByTwo();
        using var client = Client();
        using var parent = await SweepTracking.StartParentAsync(sweep.Directory, sweep.Manifest, client, Warn, new FixedTime(End));

        Assert.NotNull(SweepTracking.ParentRunId(sweep.Directory, Environment(server.BaseUri)));
        Assert.Null(SweepTracking.ParentRunId(sweep.Directory, Environment(new Uri("http://127.0.0.1:1/"))));
    }

    private static Uri ClosedPort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
