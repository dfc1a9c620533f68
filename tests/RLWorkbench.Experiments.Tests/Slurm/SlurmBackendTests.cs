using System.Text.Json.Nodes;
using RLWorkbench.Experiments.Sweeps;
using RLWorkbench.Experiments.Sweeps.Slurm;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Tests.Slurm;

/// <summary>
/// The backend against the real sbatch and squeue of this machine's Slurm (`./rlw test` starts it with
/// scripts/slurm-local.sh), with a stand-in worker script so each test takes seconds.
/// </summary>
[Collection(SlurmCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SlurmBackendTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("rlw-slurm-backend-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Trials_that_die_without_recording_an_end_are_marked_failed_with_their_log_and_the_others_finish()
    {
        var sweep = Path.Combine(_root, "sweep");
        var worker = FakeWorker(
            """
              0) echo "working"; cp "$templates/finished/status.json" "$dir/" ;;
              1) echo "about to be killed"; kill -KILL $$ ;;
              2) cp "$templates/running/status.json" "$dir/"; echo "crashing"; exit 3 ;;
              3) cp "$templates/failed/status.json" "$dir/"; exit 1 ;;
            """);
        var manifest = Manifest(4);
        var notices = new List<string>();

        await Backend(worker).RunAsync(manifest, sweep, manifest.Trials, notices.Add, CancellationToken.None);

        var job = Assert.Single(SlurmSubmissions.Read(sweep)).JobId;
        Assert.Equal(TrialState.Finished, TrialRecords.StateOf(TrialDir(sweep, 0)));
        // Slurm 22.05 calls a SIGKILLed batch script a launch failure; the signal says what happened.
        var killed = RunReader.Read(TrialDir(sweep, 1)).Info;
        Assert.Equal(RunStatus.Failed, killed.Status);
        Assert.Equal(
            $"Slurm job {job}_1 ended FAILED (JobLaunchFailure, signal 9) before the trial recorded an end; log: {TrialDir(sweep, 1)}/trial.log",
            killed.Message);
        var crashed = RunReader.Read(TrialDir(sweep, 2)).Info;
        Assert.Equal(RunStatus.Failed, crashed.Status);
        Assert.Equal(
            $"Slurm job {job}_2 ended FAILED (NonZeroExitCode, exit code 3) before the trial recorded an end; log: {TrialDir(sweep, 2)}/trial.log",
            crashed.Message);
        // A worker that recorded its own failure keeps its own words.
        Assert.Equal("ppo.learningRate broke at run time", RunReader.Read(TrialDir(sweep, 3)).Info.Message);
        Assert.EndsWith("about to be killed\n", File.ReadAllText(Path.Combine(TrialDir(sweep, 1), "trial.log")), StringComparison.Ordinal);
        Assert.EndsWith("crashing\n", File.ReadAllText(Path.Combine(TrialDir(sweep, 2), "trial.log")), StringComparison.Ordinal);
        Assert.Contains($"Submitted Slurm job {job}: 4 trials as array 0-3 ({sweep}/slurm/sweep-1.sbatch).", notices);
        Assert.Contains($"Trial c00-seed2 failed: {crashed.Message}.", notices);
        Assert.Contains($"Trial c00-seed3 failed: ppo.learningRate broke at run time (log: {TrialDir(sweep, 3)}/trial.log).", notices);
        Assert.DoesNotContain(notices, n => n.Contains("c00-seed0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_rerun_while_the_job_is_queued_or_running_follows_it_instead_of_submitting_again()
    {
        var sweep = Path.Combine(_root, "sweep");
        var worker = FakeWorker(
            """
              *) sleep 2; cp "$templates/finished/status.json" "$dir/" ;;
            """);
        var manifest = Manifest(2);
        using var stop = new CancellationTokenSource();
        var first = new List<string>();

        // Ctrl+C right after submitting: stop following, the job stays with Slurm.
        await Backend(worker).RunAsync(manifest, sweep, manifest.Trials, n => { first.Add(n); stop.Cancel(); }, stop.Token);
        var job = Assert.Single(SlurmSubmissions.Read(sweep)).JobId;
        Assert.Equal(
            $"Stopped following. Slurm job {job} keeps its queued and running trials: run the same sweep again to follow it "
            + $"(finished trials are kept), or 'scancel {job}' to stop them (each stops at a checkpoint and continues on the next run).",
            first[^1]);

        var second = new List<string>();
        await Backend(worker).RunAsync(manifest, sweep, manifest.Trials, second.Add, CancellationToken.None);

        Assert.Equal($"Slurm job {job} of this sweep still has 2 trials queued or running; following it instead of submitting them again.", second[0]);
        Assert.Single(SlurmSubmissions.Read(sweep));
        Assert.False(File.Exists(Path.Combine(sweep, "slurm", "sweep-2.sbatch")));
        Assert.All(manifest.Trials, t => Assert.Equal(TrialState.Finished, TrialRecords.StateOf(TrialDir(sweep, t.Index))));

        // Once the job has ended, a rerun of a trial submits it anew.
        await Backend(worker).RunAsync(manifest, sweep, [manifest.Trials[1]], _ => { }, CancellationToken.None);
        Assert.Equal([1, 2], SlurmSubmissions.Read(sweep).Select(s => s.Number));
        Assert.Contains("#SBATCH --array=1\n", File.ReadAllText(Path.Combine(sweep, "slurm", "sweep-2.sbatch")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_sbatch_refuses_stop_the_sweep_in_its_words_with_nothing_submitted()
    {
        var sweep = Path.Combine(_root, "sweep");
        var manifest = Manifest(2) with { Slurm = new SlurmSettings { Partition = "no-such-partition" } };

        var error = await Assert.ThrowsAsync<ExperimentConfigException>(
            () => Backend(FakeWorker("")).RunAsync(manifest, sweep, manifest.Trials, _ => { }, CancellationToken.None));

        Assert.Equal("sbatch refused the job (invalid partition specified: no-such-partition); check the sweep's slurm settings.", error.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(sweep, "slurm")));
        Assert.False(Directory.Exists(Path.Combine(sweep, "trials")));
    }

    [Fact]
    public async Task Following_rides_out_squeue_failing_for_a_while()
    {
        var sweep = Path.Combine(_root, "sweep");
        var manifest = Manifest(1);
        var notices = new List<string>();
        var client = new SlurmClient(new Dictionary<string, string?> { ["PATH"] = FlakySqueue(failures: 2) });

        await Backend(FakeWorker("""  *) cp "$templates/finished/status.json" "$dir/" ;;"""), client).RunAsync(manifest, sweep, manifest.Trials, notices.Add, CancellationToken.None);

        Assert.Equal(TrialState.Finished, TrialRecords.StateOf(TrialDir(sweep, 0)));
        Assert.Single(notices, "squeue failed (slurm_load_jobs error: Socket timed out on send/recv operation); asking again.");
    }

    [Fact]
    public async Task Following_gives_up_when_squeue_keeps_failing_and_says_the_job_goes_on()
    {
        var sweep = Path.Combine(_root, "sweep");
        var manifest = Manifest(1);
        var client = new SlurmClient(new Dictionary<string, string?> { ["PATH"] = FlakySqueue(failures: int.MaxValue) });
        var backend = new SlurmBackend(client, TimeProvider.System, pollInterval: TimeSpan.FromMilliseconds(100), queueOutage: TimeSpan.FromSeconds(1), workerCommand: ["/bin/true"]);

        var error = await Assert.ThrowsAsync<SlurmUnavailableException>(() => backend.RunAsync(manifest, sweep, manifest.Trials, _ => { }, CancellationToken.None));

        var job = Assert.Single(SlurmSubmissions.Read(sweep)).JobId;
        Assert.Equal(
            $"squeue failed (slurm_load_jobs error: Socket timed out on send/recv operation) for 1 s, so the sweep stopped following Slurm job {job}; "
            + "its trials go on, and running the same sweep again follows them.",
            error.Message);
    }

    /// <summary>A PATH whose squeue fails like a busy controller the first <paramref name="failures"/> times, then is the real one.</summary>
    private string FlakySqueue(int failures)
    {
        var bin = Directory.CreateDirectory(Path.Combine(_root, "flaky-bin")).FullName;
        var count = Path.Combine(_root, "squeue-calls");
        File.WriteAllText(Path.Combine(bin, "squeue"), $"""
            #!/bin/bash
            calls=$(( $(cat '{count}' 2>/dev/null || echo 0) + 1 ))
            echo "$calls" > '{count}'
            if [ "$calls" -le {failures} ]; then
              echo "slurm_load_jobs error: Socket timed out on send/recv operation" >&2
              exit 1
            fi
            exec /usr/bin/squeue "$@"

            """);
        File.SetUnixFileMode(Path.Combine(bin, "squeue"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return bin + ":" + Environment.GetEnvironmentVariable("PATH");
    }

    private SlurmBackend Backend(string worker, SlurmClient? client = null) =>
        new(client ?? new SlurmClient(), TimeProvider.System, pollInterval: TimeSpan.FromMilliseconds(300), settleTime: TimeSpan.Zero, workerCommand: ["/bin/bash", worker]);

    /// <summary>
    /// A worker stand-in taking the real worker's arguments (sweep trial &lt;dir&gt; &lt;index&gt;); its case arms see $dir
    /// (the trial directory) and $templates (the status.json of a finished run, of one still running and of one that recorded its failure).
    /// </summary>
    private string FakeWorker(string cases)
    {
        var templates = Path.Combine(_root, "templates");
        foreach (var status in new[] { RunStatus.Finished, RunStatus.Running, RunStatus.Failed })
        {
            var message = status == RunStatus.Failed ? "ppo.learningRate broke at run time" : null;
            var info = new RunInfo("t", "ppo", status, DateTimeOffset.UnixEpoch, null, message, new Dictionary<string, string>(), new Dictionary<string, string>());
            var file = Path.Combine(templates, status.ToString().ToLowerInvariant(), "status.json");
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllText(file, System.Text.Json.JsonSerializer.Serialize(info, Run.Json));
        }
        var path = Path.Combine(_root, "worker.sh");
        File.WriteAllText(path, $"""
            templates='{templates}'
            dir="$3/trials/c00-seed$4"
            case "$4" in
            {cases}
            esac

            """);
        return path;
    }

    private static string TrialDir(string sweep, int index) => Path.Combine(sweep, "trials", $"c00-seed{index}");

    private static SweepManifest Manifest(int trials) => new(
        "backend-test", "ppo", null, new JsonObject(), [], [], Enumerable.Range(0, trials).Select(i => (long)i).ToList(),
        Enumerable.Range(0, trials).Select(i => new SweepTrial(i, $"c00-seed{i}", "c00", i, $"trials/c00-seed{i}", new JsonObject())).ToList(),
        new SlurmSettings { Mem = "100M", Time = "00:05:00" }, null, DateTimeOffset.UnixEpoch);
}

/// <summary>Tests that submit to the one local Slurm run one at a time, so each has the node's cores to itself.</summary>
[CollectionDefinition(Name)]
public sealed class SlurmCollection
{
    public const string Name = "local Slurm";
}
