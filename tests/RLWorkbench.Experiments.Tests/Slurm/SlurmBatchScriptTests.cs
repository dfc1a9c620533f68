using System.Text.Json.Nodes;
using RLWorkbench.Experiments.Sweeps;
using RLWorkbench.Experiments.Sweeps.Slurm;

namespace RLWorkbench.Experiments.Tests.Slurm;

public class SlurmBatchScriptTests
{
    private static SweepTrial Trial(int index, string id) => new(index, id, id[..3], 0, $"trials/{id}", new JsonObject());

    [Fact]
    public void Script_asks_for_the_settings_and_runs_the_worker_for_each_array_task()
    {
        var settings = new SlurmSettings
        {
            CpusPerTask = 2,
            Mem = "1500M",
            Time = "00:20:00",
            Partition = "short",
            ExtraArguments = ["--account=rl", "--qos=normal"],
        };

        var script = SlurmBatchScript.Write(
            "rlw-smoke",
            settings,
            "/data/sweeps/smoke",
            [Trial(3, "c01-seed1"), Trial(1, "c00-seed1")],
            "/data/sweeps/smoke/slurm/sweep-2_%a.log",
            ["/usr/bin/dotnet", "/opt/rl workbench/rlw.dll"]);

        Assert.Equal(
            """
            #!/bin/bash
            #SBATCH --job-name=rlw-smoke
            #SBATCH --array=1,3
            #SBATCH --cpus-per-task=2
            #SBATCH --mem=1500M
            #SBATCH --time=00:20:00
            #SBATCH --partition=short
            #SBATCH --output=/data/sweeps/smoke/slurm/sweep-2_%a.log
            #SBATCH --open-mode=append
            #SBATCH --account=rl
            #SBATCH --qos=normal
            # Written by `rlw sweep` (RLWorkbench): one array task per trial of /data/sweeps/smoke/sweep.json.
            set -euo pipefail
            case "$SLURM_ARRAY_TASK_ID" in
              1) trial_dir='/data/sweeps/smoke/trials/c00-seed1' ;;
              3) trial_dir='/data/sweeps/smoke/trials/c01-seed1' ;;
              *) echo "array task $SLURM_ARRAY_TASK_ID is not a trial of this submission" >&2; exit 2 ;;
            esac
            mkdir -p "$trial_dir"
            echo "== Slurm job ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} on $(hostname) at $(date -Is)" >>"$trial_dir/trial.log"
            export OMP_NUM_THREADS=2 MKL_NUM_THREADS=2
            exec '/usr/bin/dotnet' '/opt/rl workbench/rlw.dll' 'sweep' 'trial' '/data/sweeps/smoke' "$SLURM_ARRAY_TASK_ID" >>"$trial_dir/trial.log" 2>&1

            """.ReplaceLineEndings("\n"),
            script);
    }

    [Fact]
    public void Script_with_default_settings_has_no_partition_line()
    {
        var script = SlurmBatchScript.Write(
            "rlw-s", new SlurmSettings(), "/s", [Trial(0, "c00-seed0"), Trial(1, "c00-seed1")], "/s/slurm/sweep-1_%a.log", ["/opt/rlw"]);

        var options = script.Split('\n').Where(l => l.StartsWith("#SBATCH", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            [
                "#SBATCH --job-name=rlw-s",
                "#SBATCH --array=0-1",
                "#SBATCH --cpus-per-task=1",
                "#SBATCH --mem=2G",
                "#SBATCH --time=01:00:00",
                "#SBATCH --output=/s/slurm/sweep-1_%a.log",
                "#SBATCH --open-mode=append",
            ],
            options);
        Assert.Contains("\nexport OMP_NUM_THREADS=1 MKL_NUM_THREADS=1\nexec '/opt/rlw' 'sweep' 'trial' '/s' \"$SLURM_ARRAY_TASK_ID\"", script, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { 0, 1, 2, 3 }, "0-3")]
    [InlineData(new[] { 3, 1 }, "1,3")]
    [InlineData(new[] { 9, 0, 1, 2, 5, 7, 8 }, "0-2,5,7-9")]
    [InlineData(new[] { 4 }, "4")]
    public void Array_spec_joins_consecutive_indices_into_ranges(int[] indices, string expected) =>
        Assert.Equal(expected, SlurmBatchScript.ArraySpec(indices));

    [Fact]
    public void Quote_keeps_a_single_quote_literal() =>
        Assert.Equal("'it'\\''s'", SlurmBatchScript.Quote("it's"));

    [Theory]
    [InlineData(0, "2G", "01:00:00", null, "slurm.cpusPerTask is 0; it must be 1 or more.")]
    [InlineData(1, "2 G", "01:00:00", null, "slurm.mem is '2 G'; it must be one sbatch value without spaces (for example \"2G\" or \"01:00:00\").")]
    [InlineData(1, "2G", "", null, "slurm.time is ''; it must be one sbatch value without spaces (for example \"2G\" or \"01:00:00\").")]
    [InlineData(1, "2G", "01:00:00", "account=rl", "slurm.extraArguments holds 'account=rl', which is not one sbatch option; each entry must start with '-' (for example \"--account=rl\") and be on one line.")]
    [InlineData(1, "2G", "01:00:00", "--qos=a\nrm -rf /", "slurm.extraArguments holds '--qos=a\nrm -rf /', which is not one sbatch option; each entry must start with '-' (for example \"--account=rl\") and be on one line.")]
    public void Settings_that_would_break_the_script_are_refused_in_one_sentence(int cpus, string mem, string time, string? extra, string expected)
    {
        var settings = new SlurmSettings { CpusPerTask = cpus, Mem = mem, Time = time, ExtraArguments = extra is null ? [] : [extra] };

        var error = Assert.Throws<ExperimentConfigException>(() => SlurmBatchScript.Validate(settings));

        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void Job_name_replaces_characters_a_terminal_would_mangle() =>
        Assert.Equal("rlw-lr-sweep_v2.1-", SlurmBackend.JobName("lr sweep_v2.1/"));
}
