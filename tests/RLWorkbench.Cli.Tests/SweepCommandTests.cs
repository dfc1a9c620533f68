using System.Globalization;
using RLWorkbench.Experiments.Sweeps;
using RLWorkbench.Tracking;

namespace RLWorkbench.Cli.Tests;

/// <summary>`rlw sweep`, its worker and `--seeds`, end to end through the built command on the local backend.</summary>
public class SweepCommandTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    /// <summary>qlearn on the simulated backend with a wall-clock delay per call: trials that take seconds without using the CPU.</summary>
    private static string SlowQlearn(string name, int iterations, string seeds) => $$"""
        { "name": "{{name}}", "experiment": "qlearn",
          "configuration": { "iterations": {{iterations}}, "simulatedCallSeconds": 0.1 },
          "seeds": "{{seeds}}", "maxParallel": 2 }
        """;

    [Fact]
    public void Dry_run_prints_the_plan_and_writes_nothing()
    {
        var directory = Path.Combine(Workbench.TempDirectory(), "variants");
        var r = Workbench.Run("sweep", Path.Combine(RepositoryPaths.Root, "experiments", "sweep-ppo-variants.json"), "--out", directory, "--dry-run");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains($"Sweep sweep-ppo-variants (ppo): 6 configurations x 5 seeds (0, 1, 2, 3, 4) = 30 trials, backend local, into {directory}.", r.Output);
        Assert.Contains("  c01  beta\n", r.Output.ReplaceLineEndings("\n"));
        Assert.Contains("  c05  vecnormalize\n", r.Output.ReplaceLineEndings("\n"));
        Assert.Contains("Trials in launch order: c00-seed0, c01-seed0, c02-seed0,", r.Output);
        Assert.EndsWith("Nothing was run or written (--dry-run).", r.Output.TrimEnd());
        Assert.False(Directory.Exists(directory), "a dry run created the sweep directory");
    }

    private static string WriteSpec(string directory, string json)
    {
        var path = Path.Combine(directory, "spec.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static void WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"waited {Patience} for {what}");
            Thread.Sleep(100);
        }
    }

    /// <summary>The pid of the worker running a trial: its command line ends with `sweep trial &lt;dir&gt; &lt;index&gt;`.</summary>
    private static int? WorkerPid(string sweepDirectory, int index)
    {
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid))
                continue;
            string[] arguments;
            try
            {
                arguments = File.ReadAllText(Path.Combine(entry, "cmdline")).Split('\0');
            }
            catch (IOException)
            {
                continue;
            }
            var at = Array.IndexOf(arguments, "trial");
            if (at > 0 && arguments[at - 1] == "sweep" && at + 2 < arguments.Length
                && arguments[at + 1] == sweepDirectory && arguments[at + 2] == index.ToString(CultureInfo.InvariantCulture))
            {
                return pid;
            }
        }
        return null;
    }

    private static string Trial(string sweepDirectory, string id) => Path.Combine(sweepDirectory, "trials", id);

    private static bool Started(string trialDirectory) => TrialProgressWriter.Read(trialDirectory) is not null;

    /// <summary>Whether a qlearn trial has saved a checkpoint, so it has something to continue from.</summary>
    private static bool Checkpointed(string trialDirectory) => File.Exists(Path.Combine(trialDirectory, "artifacts", "checkpoint.json"));

    [Theory]
    [InlineData("""{ "experiment": "dqn" }""", new string[0], "unknown experiment 'dqn'; allowed: ppo, qlearn, compare.")]
    [InlineData("""{ "experiment": "ppo", "grid": { "ppo.learnRate": [0.001] } }""", new string[0], "grid: unknown setting 'ppo.learnRate'; did you mean 'ppo.learningRate'?")]
    [InlineData("""{ "experiment": "ppo", "grid": { "ppo.learningRate": [] } }""", new string[0], "grid 'ppo.learningRate' is an empty list; give at least one value.")]
    [InlineData("""{ "experiment": "ppo", "random": { "samples": 4, "settings": { "ppo.learningRate": { "logUniform": [0.001, 0.0001] } } } }""", new string[0], "random setting 'ppo.learningRate': logUniform needs 0 < lo < hi, got [0.001,0.0001].")]
    [InlineData("""{ "experiment": "ppo", "seeds": "5-1" }""", new string[0], "seeds '5-1' is a backwards range; write the lower seed first ('1-5').")]
    [InlineData("""{ "experiment": "ppo", "grid": { "ppo.learningRate": [0.001, "fast"] } }""", new string[0], "trial c01-seed0 (ppo.learningRate=fast): 'ppo.learningRate' must be a number, got \"fast\".")]
    [InlineData("""{ "experiment": "ppo" }""", new[] { "--parallel", "0" }, "--parallel must be a whole number from 1 to 1024, got 0.")]
    [InlineData("""{ "experiment": "ppo" }""", new[] { "--backend", "cloud" }, "unknown backend 'cloud'; allowed: local, slurm.")]
    [InlineData("""{ "experiment": "ppo" }""", new[] { "--mem", "lots" }, "slurm mem 'lots' is not in sbatch's notation; write megabytes or a number with K, M, G or T, such as 2G or 1500M.")]
    public void A_bad_spec_or_option_is_refused_with_one_sentence_exit_code_2_and_nothing_written(string spec, string[] options, string message)
    {
        var directory = Workbench.TempDirectory();
        WriteSpec(directory, spec);
        var r = Workbench.RunIn(directory, ["sweep", "spec.json", .. options]);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"error: {message}", r.Error.Trim());
        Assert.Equal(["spec.json"], Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData(new[] { "ppo", "--seeds", "5-1" }, "error: seeds '5-1' is a backwards range; write the lower seed first ('1-5').")]
    [InlineData(new[] { "ppo", "--seeds", "0-4", "--resume", "x/artifacts/checkpoint.bin" }, "error: --seeds starts a sweep of new runs, so --resume cannot be given with it; run the same --seeds command with the same --out to resume a seed sweep.")]
    [InlineData(new[] { "qlearn", "--seeds", "0-4", "--seed", "3" }, "error: --seeds gives every run its seed, so --seed cannot be given with it.")]
    public void Seeds_with_a_conflicting_option_or_a_bad_range_is_a_usage_error(string[] args, string message)
    {
        var directory = Workbench.TempDirectory();
        var r = Workbench.RunIn(directory, args);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal(message, r.Error.Trim());
        Assert.Empty(Directory.EnumerateFileSystemEntries(directory));
    }

    [Fact]
    public void The_smoke_sweep_runs_every_trial_into_an_ordinary_run_and_a_rerun_skips_them()
    {
        var (first, sweep) = SmokeSweep.Local;
        var spec = SmokeSweep.Spec;
        Assert.True(first.ExitCode == 0, first.Output + first.Error);
        Assert.Contains("4 trials: 4 start.", first.Output);
        Assert.Contains("2 configurations x 2 seeds (0, 1) = 4 trials; 4 finished, 0 failed, 0 not finished.", first.Output);
        Assert.True(File.Exists(Path.Combine(sweep, SweepLayout.ReportMarkdown)));
        Assert.True(File.Exists(Path.Combine(sweep, SweepLayout.ReportFigure)));

        var manifest = SweepManifest.Load(sweep);
        Assert.Equal(["c00-seed0", "c01-seed0", "c00-seed1", "c01-seed1"], manifest.Trials.Select(t => t.Id));
        foreach (var trial in manifest.Trials)
        {
            var directory = Trial(sweep, trial.Id);
            var record = RunReader.Read(directory);
            Assert.Equal(RunStatus.Finished, record.Info.Status);
            Assert.Equal("ppo", record.Kind);
            Assert.Equal(trial.Id, record.Info.Tags["sweep.trial"]);
            Assert.Equal(8192, record.RequireTable("metrics").Steps().Last());
            Assert.Equal(trial.Configuration["ppo"]!["learningRate"]!.ToJsonString(), record.Config!["ppo"]!["learningRate"]!.ToJsonString());
            var scores = SweepResults.ReadScores(directory)!;
            Assert.NotNull(scores.Final);
            Assert.Contains($"| {trial.Id} | `{trial.ConfigurationKey}` | {trial.Seed} | finished |", first.Output);
            Assert.Contains("local worker", File.ReadAllText(Path.Combine(directory, SweepLayout.TrialLog)));
        }

        // Every existing command reads a trial as the run it is.
        var show = Workbench.Run("runs", "show", Trial(sweep, "c01-seed1"));
        Assert.True(show.ExitCode == 0, show.Error);
        Assert.Contains("finished", show.Output);
        var report = Workbench.Run("sweep", "report", sweep);
        Assert.True(report.ExitCode == 0, report.Error);
        Assert.Contains("| c01-seed1 | `c01` | 1 | finished |", report.Output);
        Assert.Contains($"Report: {Path.Combine(sweep, SweepLayout.ReportMarkdown)}", report.Output);

        var again = Workbench.Run("sweep", spec, "--out", sweep, "--plain");
        Assert.True(again.ExitCode == 0, again.Output + again.Error);
        Assert.Contains("4 trials: 4 finished earlier (skipped).", again.Output);
    }

    [Fact]
    public void The_slurm_options_are_laid_over_the_specs_slurm_block_in_sweep_json()
    {
        var directory = Workbench.TempDirectory();
        var spec = WriteSpec(directory, """
            { "name": "slurmy", "experiment": "qlearn", "configuration": { "iterations": 2 },
              "slurm": { "mem": "1G", "extraArguments": ["--account=rl"] } }
            """);
        var r = Workbench.RunIn(directory, "sweep", spec, "--out", "s", "--plain", "--cpus-per-task", "2", "--time", "02:00:00", "--partition", "short", "--sbatch-arg=--qos=low", "--sbatch-arg", "--exclusive");
        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        var slurm = SweepManifest.Load(Path.Combine(directory, "s")).Slurm;
        Assert.Equal((2, "1G", "02:00:00", "short"), (slurm.CpusPerTask, slurm.Mem, slurm.Time, slurm.Partition));
        Assert.Equal(["--account=rl", "--qos=low", "--exclusive"], slurm.ExtraArguments);
    }

    [Fact]
    public void A_second_sweep_into_a_running_sweeps_directory_refuses_and_so_does_a_different_spec()
    {
        var directory = Workbench.TempDirectory();
        var sweep = Path.Combine(directory, "sweep");
        var spec = WriteSpec(directory, SlowQlearn("busy", 12, "0"));
        using var first = Workbench.Start(directory, "sweep", spec, "--out", sweep, "--plain");
        WaitUntil(() => Started(Trial(sweep, "c00-seed0")), "the first sweep's trial to start");

        var second = Workbench.RunIn(directory, "sweep", spec, "--out", sweep, "--plain");
        Assert.Equal(1, second.ExitCode);
        Assert.Equal($"error: the sweep directory '{sweep}' is in use by another sweep runner (it holds sweep.lock); wait for that one to end, or choose another --out.", second.Error.Trim());
        var done = first.Wait(Patience);
        Assert.True(done.ExitCode == 0, done.Output + done.Error);

        var other = WriteSpec(directory, SlowQlearn("busy", 13, "0"));
        var refused = Workbench.RunIn(directory, "sweep", other, "--out", sweep, "--plain");
        Assert.Equal(2, refused.ExitCode);
        Assert.Equal($"error: '{sweep}' already holds a different sweep ('busy': another base configuration); choose another --out, or delete that directory to start over.", refused.Error.Trim());
    }

    [Fact]
    public void A_sigkilled_worker_is_marked_failed_with_its_log_the_others_finish_and_a_rerun_continues_it()
    {
        var directory = Workbench.TempDirectory();
        var sweep = Path.Combine(directory, "sweep");
        var spec = WriteSpec(directory, SlowQlearn("killed", 16, "0-2"));
        using var runner = Workbench.Start(directory, "sweep", spec, "--out", sweep, "--plain");
        var victim = Trial(sweep, "c00-seed0");
        WaitUntil(() => Checkpointed(victim) && WorkerPid(sweep, 0) is not null, "trial 0 to save a checkpoint");
        Workbench.Signal(WorkerPid(sweep, 0)!.Value, "KILL");

        var result = runner.Wait(Patience);
        Assert.Equal(1, result.ExitCode);
        var log = Path.Combine(victim, SweepLayout.TrialLog);
        var message = $"the worker was killed (SIGKILL) without recording an end; see {log}";
        Assert.Contains($"Trial c00-seed0 failed: {message}", result.Output);
        Assert.Equal((RunStatus.Failed, message), (RunReader.Read(victim).Info.Status, RunReader.Read(victim).Info.Message));
        Assert.True(File.Exists(log));
        Assert.Equal(RunStatus.Finished, RunReader.Read(Trial(sweep, "c00-seed1")).Info.Status);
        Assert.Equal(RunStatus.Finished, RunReader.Read(Trial(sweep, "c00-seed2")).Info.Status);
        Assert.Contains("1 trial(s) did not finish", result.Output);

        var rerun = Workbench.RunIn(directory, "sweep", spec, "--out", sweep, "--plain");
        Assert.True(rerun.ExitCode == 0, rerun.Output + rerun.Error);
        Assert.Contains("3 trials: 2 finished earlier (skipped), 1 continue from their checkpoints.", rerun.Output);
        var steps = RunReader.Read(victim).RequireTable("iterations").Steps();
        Assert.Equal(Enumerable.Range(1, 16).Select(i => (double)i), steps.Distinct());
        Assert.Equal(RunStatus.Finished, RunReader.Read(victim).Info.Status);
    }

    [Fact]
    public void Ctrl_c_stops_every_worker_cleanly_and_running_the_sweep_again_completes_it()
    {
        var directory = Workbench.TempDirectory();
        var sweep = Path.Combine(directory, "sweep");
        var spec = WriteSpec(directory, SlowQlearn("interrupted", 40, "0-1"));
        using var runner = Workbench.Start(directory, "sweep", spec, "--out", sweep, "--plain");
        WaitUntil(() => Checkpointed(Trial(sweep, "c00-seed0")) && Checkpointed(Trial(sweep, "c00-seed1")), "both trials to save a checkpoint");
        // Only the runner is signalled, as `kill -INT` would; it forwards the stop to its workers.
        Workbench.Signal(runner.Process.Id, "INT");

        var stopped = runner.Wait(Patience);
        Assert.Equal(1, stopped.ExitCode);
        Assert.Contains("Stopping: every worker saves and stops; run the sweep again to continue", stopped.Error);
        foreach (var id in new[] { "c00-seed0", "c00-seed1" })
        {
            Assert.Equal(RunStatus.Killed, RunReader.Read(Trial(sweep, id)).Info.Status);
            Assert.Null(WorkerPid(sweep, id == "c00-seed0" ? 0 : 1));
            Assert.InRange(RunReader.Read(Trial(sweep, id)).RequireTable("iterations").RowCount, 1, 39);
        }

        var rerun = Workbench.RunIn(directory, "sweep", spec, "--out", sweep, "--plain");
        Assert.True(rerun.ExitCode == 0, rerun.Output + rerun.Error);
        Assert.Contains("2 trials: 2 continue from their checkpoints.", rerun.Output);
        foreach (var id in new[] { "c00-seed0", "c00-seed1" })
        {
            Assert.Equal(RunStatus.Finished, RunReader.Read(Trial(sweep, id)).Info.Status);
            Assert.Equal(Enumerable.Range(1, 40).Select(i => (double)i), RunReader.Read(Trial(sweep, id)).RequireTable("iterations").Steps());
        }
    }

    [Fact]
    public void Ppo_seeds_runs_one_sweep_and_prints_each_seed_and_the_mean_with_its_95_percent_interval()
    {
        var sweep = Path.Combine(Workbench.TempDirectory(), "seeds");
        var r = Workbench.Run("ppo", "--seeds", "0-1", "--steps", "256", "--plain", "--out", sweep,
            "--set", "ppo.numEnvs=2", "--set", "ppo.stepsPerEnv=128", "--set", "ppo.hiddenSizes=[16]", "--set", "ppo.epochs=1",
            "--set", "evalEverySteps=0", "--set", "finalEvalEpisodes=3");
        Assert.True(r.ExitCode == 0, r.Output + r.Error);

        var finals = new[] { "c00-seed0", "c00-seed1" }.Select(id => SweepResults.ReadScores(Trial(sweep, id))!.Final!.Value).ToArray();
        string G4(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
        Assert.Contains($"0     finished  {G4(finals[0])}", r.Output);
        Assert.Contains($"1     finished  {G4(finals[1])}", r.Output);
        // Two seeds: the mean plus or minus t(0.975, 1 degree of freedom) = 12.706 standard errors.
        var mean = (finals[0] + finals[1]) / 2;
        var half = 12.706 * Math.Abs(finals[0] - finals[1]) / Math.Sqrt(2) / Math.Sqrt(2);
        Assert.Contains($"Mean {G4(mean)}, 95% interval [{G4(mean - half)}, {G4(mean + half)}] (Student-t over 2 finished seeds). Every seed finished.", r.Output);
        Assert.Equal(256, RunReader.Read(Trial(sweep, "c00-seed1")).RequireTable("metrics").Steps().Last());
        Assert.Equal("1", RunReader.Read(Trial(sweep, "c00-seed1")).Config!["ppo"]!["seed"]!.ToJsonString());
    }
}
