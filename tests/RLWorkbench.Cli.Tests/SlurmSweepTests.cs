using System.Text.Json.Nodes;
using RLWorkbench.Tracking;

namespace RLWorkbench.Cli.Tests;

/// <summary>
/// `rlw sweep --backend slurm` end to end, through this machine's real Slurm (`./rlw test` starts it with
/// scripts/slurm-local.sh), against the same sweep on the local backend.
/// </summary>
public class SlurmSweepTests
{
    private static readonly string SmokeSpec = Path.Combine(RepositoryPaths.Root, "experiments", "sweep-smoke.json");

    /// <summary>Wall-clock columns: the only ones allowed to differ between two runs of one trial.</summary>
    private static readonly string[] TimingColumns = ["time_s", "steps_per_second"];

    [Fact]
    public void Smoke_sweep_through_sbatch_finishes_every_trial_with_the_local_backends_numbers()
    {
        var onSlurm = Path.Combine(Workbench.TempDirectory(), "slurm");
        var slurm = Run(null, "sweep", SmokeSpec, "--backend", "slurm", "--out", onSlurm, "--plain");
        var (local, onLocal) = SmokeSweep.Local;

        Assert.True(slurm.ExitCode == 0, slurm.Output + slurm.Error);
        Assert.True(local.ExitCode == 0, local.Output + local.Error);
        var job = File.ReadAllText(Path.Combine(onSlurm, "slurm", "sweep-1.jobid")).Trim();
        Assert.Contains($"Submitted Slurm job {job}: 4 trials as array 0-3 ({onSlurm}/slurm/sweep-1.sbatch).", slurm.Output, StringComparison.Ordinal);
        Assert.Contains("2 configurations x 2 seeds (0, 1) = 4 trials; 4 finished, 0 failed, 0 not finished.", slurm.Output, StringComparison.Ordinal);
        Assert.Contains($"Report: {Path.Combine(onSlurm, "report.md")}, {Path.Combine(onSlurm, "report.csv")}", slurm.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(onSlurm, "report.md")) && File.Exists(Path.Combine(onSlurm, "report.csv")));
        var trials = Directory.GetDirectories(Path.Combine(onSlurm, "trials")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(4, trials.Count);
        foreach (var trial in trials)
        {
            var s = Path.Combine(onSlurm, "trials", trial!);
            var l = Path.Combine(onLocal, "trials", trial!);
            Assert.Equal(RunStatus.Finished, RunReader.Read(s).Info.Status);
            Assert.StartsWith($"== Slurm job {job}_", File.ReadAllText(Path.Combine(s, "trial.log")), StringComparison.Ordinal);
            foreach (var table in new[] { "metrics.csv", "eval.csv", "episodes.csv" })
                Assert.Equal(WithoutTiming(Path.Combine(l, table)), WithoutTiming(Path.Combine(s, table)));
            var scoresS = JsonNode.Parse(File.ReadAllText(Path.Combine(s, "scores.json")))!;
            var scoresL = JsonNode.Parse(File.ReadAllText(Path.Combine(l, "scores.json")))!;
            Assert.Equal(scoresL["final"]!.GetValue<double>(), scoresS["final"]!.GetValue<double>());
            Assert.Equal(scoresL["best"]!.GetValue<double>(), scoresS["best"]!.GetValue<double>());
        }
    }

    [Fact]
    public void Without_sbatch_on_PATH_slurm_is_a_usage_error_with_nothing_written()
    {
        var root = Workbench.TempDirectory();
        var emptyPath = Directory.CreateDirectory(Path.Combine(root, "bin")).FullName;
        var output = Path.Combine(root, "sweep");

        var result = Run(new() { ["PATH"] = emptyPath }, "sweep", SmokeSpec, "--backend", "slurm", "--out", output);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
            "error: --backend slurm needs Slurm's sbatch, squeue and scontrol on PATH, and sbatch, squeue and scontrol are not there; "
            + "run on a cluster's login node, or start a one-machine Slurm with scripts/slurm-local.sh.\n",
            result.Error);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void A_controller_that_does_not_answer_is_one_sentence_and_exit_1_with_nothing_written()
    {
        var root = Workbench.TempDirectory();
        var conf = UnreachableSlurm.WriteConf(root);
        var output = Path.Combine(root, "sweep");

        var result = Run(new() { ["SLURM_CONF"] = conf }, "sweep", SmokeSpec, "--backend", "slurm", "--out", output);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(
            "error: the Slurm controller does not answer (scontrol ping: Slurmctld(primary) at rlw-nowhere is DOWN), so nothing was submitted.\n",
            result.Error);
        Assert.False(Directory.Exists(output));
    }

    /// <summary>A table's rows with the timing columns left out.</summary>
    private static List<string> WithoutTiming(string csv)
    {
        var lines = File.ReadAllLines(csv);
        var header = lines[0].Split(',');
        var keep = Enumerable.Range(0, header.Length).Where(i => !TimingColumns.Contains(header[i])).ToList();
        Assert.True(lines.Length > 1, $"{csv} has no rows");
        return lines.Select(line => string.Join(',', keep.Select(i => line.Split(',')[i]))).ToList();
    }

    /// <summary>Like <see cref="Workbench.Run"/>, with environment variables for rlw and a limit a whole sweep fits in.</summary>
    private static Workbench.Result Run(Dictionary<string, string>? environment, params string[] args)
    {
        var start = Workbench.StartInfo(Directory.GetCurrentDirectory(), args);
        foreach (var (name, value) in environment ?? [])
            start.Environment[name] = value;
        return Workbench.RunWith(start, TimeSpan.FromMinutes(5));
    }
}
