using System.Text.Json.Nodes;
using RLWorkbench.Experiments.Sweeps;
using RLWorkbench.Experiments.Sweeps.Slurm;

namespace RLWorkbench.Experiments.Tests.Slurm;

public sealed class SlurmClientTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("rlw-slurm-client-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Queue_lines_give_one_row_per_array_task_including_a_pending_range()
    {
        var rows = SlurmClient.ParseQueue(
            """
            41|2|RUNNING|None|/s/slurm/sweep-1.sbatch
            41|0-1,5%2|PENDING|Resources|/s/slurm/sweep-1.sbatch
            41|3|FAILED|NonZeroExitCode|/s/slurm/sweep-1.sbatch

            """);

        Assert.Equal(
            [
                new SlurmTask("41", 2, "RUNNING", "None", "/s/slurm/sweep-1.sbatch"),
                new SlurmTask("41", 0, "PENDING", "Resources", "/s/slurm/sweep-1.sbatch"),
                new SlurmTask("41", 1, "PENDING", "Resources", "/s/slurm/sweep-1.sbatch"),
                new SlurmTask("41", 5, "PENDING", "Resources", "/s/slurm/sweep-1.sbatch"),
                new SlurmTask("41", 3, "FAILED", "NonZeroExitCode", "/s/slurm/sweep-1.sbatch"),
            ],
            rows);
        Assert.Equal([true, true, true, true, false], rows.Select(r => r.IsActive));
        Assert.Equal("FAILED (NonZeroExitCode)", rows[4].Describe());
        Assert.Equal("RUNNING", rows[0].Describe());
    }

    [Theory]
    [InlineData("JobId=9 ArrayJobId=9 ArrayTaskId=1 JobState=FAILED Reason=JobLaunchFailure ExitCode=0:9 DerivedExitCode=0:0", "signal 9")]
    [InlineData("JobId=11 JobState=FAILED Reason=NonZeroExitCode ExitCode=3:0 RunTime=00:00:03", "exit code 3")]
    [InlineData("JobId=12 JobState=COMPLETED Reason=None ExitCode=0:0", null)]
    [InlineData("JobId=13 JobState=NODE_FAIL", null)]
    public void Exit_code_field_says_how_the_batch_script_ended(string scontrol, string? expected) =>
        Assert.Equal(expected, SlurmClient.ParseExit(scontrol));

    [Fact]
    public async Task Without_sbatch_on_PATH_the_backend_says_so_in_one_sentence_and_writes_nothing()
    {
        // squeue and scontrol are there, sbatch is not: what a half-installed client looks like.
        var bin = Directory.CreateDirectory(Path.Combine(_root, "bin")).FullName;
        foreach (var tool in new[] { "squeue", "scontrol" })
            File.CreateSymbolicLink(Path.Combine(bin, tool), "/bin/true");
        var sweep = Directory.CreateDirectory(Path.Combine(_root, "sweep")).FullName;
        var backend = new SlurmBackend(new SlurmClient(new Dictionary<string, string?> { ["PATH"] = bin }), TimeProvider.System);

        var error = await Assert.ThrowsAsync<ExperimentConfigException>(
            () => backend.RunAsync(Manifest(), sweep, Manifest().Trials, _ => { }, CancellationToken.None));

        Assert.Equal(
            "--backend slurm needs Slurm's sbatch, squeue and scontrol on PATH, and sbatch is not there; "
            + "run on a cluster's login node, or start a one-machine Slurm with scripts/slurm-local.sh.",
            error.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(sweep));
    }

    [Fact]
    public async Task With_no_Slurm_at_all_every_missing_tool_is_named()
    {
        var client = new SlurmClient(new Dictionary<string, string?> { ["PATH"] = Path.Combine(_root, "nothing-here") });

        var error = await Assert.ThrowsAsync<ExperimentConfigException>(() => client.EnsureAvailableAsync(CancellationToken.None));

        Assert.StartsWith("--backend slurm needs Slurm's sbatch, squeue and scontrol on PATH, and sbatch, squeue and scontrol are not there; ", error.Message);
    }

    [Fact]
    public async Task A_controller_that_does_not_answer_is_one_sentence_before_anything_is_submitted()
    {
        // The real scontrol, pointed at a cluster whose controller address has nothing listening.
        var conf = UnreachableSlurm.WriteConf(_root);
        var sweep = Directory.CreateDirectory(Path.Combine(_root, "sweep")).FullName;
        var backend = new SlurmBackend(new SlurmClient(new Dictionary<string, string?> { ["SLURM_CONF"] = conf }), TimeProvider.System);

        var error = await Assert.ThrowsAsync<SlurmUnavailableException>(
            () => backend.RunAsync(Manifest(), sweep, Manifest().Trials, _ => { }, CancellationToken.None));

        Assert.Equal("the Slurm controller does not answer (scontrol ping: Slurmctld(primary) at rlw-nowhere is DOWN), so nothing was submitted.", error.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(sweep));
    }

    private static SweepManifest Manifest() => new(
        "client-test", "ppo", null, new JsonObject(), [], [], [0],
        [new SweepTrial(0, "c00-seed0", "c00", 0, "trials/c00-seed0", new JsonObject())],
        new SlurmSettings(), null, DateTimeOffset.UnixEpoch);
}
