using System.Globalization;
using System.Text;

namespace RLWorkbench.Experiments.Sweeps.Slurm;

/// <summary>
/// The sbatch array script of one submission: one array task per trial, each running the same worker command
/// as the local backend, so a trial's numbers do not depend on where it ran.
/// </summary>
public static class SlurmBatchScript
{
    /// <summary>
    /// The script text. The worker's output goes to the trial's own trial.log (the same file the local backend
    /// writes); the job's --output file, <paramref name="slurmLogPattern"/>, receives only what Slurm itself says
    /// about a task (time limit, memory, node failure), because an array's --output cannot name each trial's directory.
    /// </summary>
    /// <param name="jobName">sbatch --job-name.</param>
    /// <param name="settings">What each task asks the scheduler for.</param>
    /// <param name="sweepDirectory">Absolute; every node must be able to read and write it.</param>
    /// <param name="trials">The trials to run, by their index (the array task id).</param>
    /// <param name="slurmLogPattern">Absolute --output path with sbatch's %a for the task id.</param>
    /// <param name="workerCommand">The program and leading arguments that start `rlw` (<see cref="WorkerExecutable.Command"/>).</param>
    public static string Write(
        string jobName,
        SlurmSettings settings,
        string sweepDirectory,
        IReadOnlyList<SweepTrial> trials,
        string slurmLogPattern,
        IReadOnlyList<string> workerCommand)
    {
        Validate(settings);
        if (trials.Count == 0)
            throw new ArgumentException("a Slurm submission needs at least one trial.", nameof(trials));

        var s = new StringBuilder();
        s.Append("#!/bin/bash\n");
        Option(s, $"--job-name={jobName}");
        Option(s, $"--array={ArraySpec(trials.Select(t => t.Index))}");
        Option(s, $"--cpus-per-task={settings.CpusPerTask.ToString(CultureInfo.InvariantCulture)}");
        Option(s, $"--mem={settings.Mem}");
        Option(s, $"--time={settings.Time}");
        if (!string.IsNullOrEmpty(settings.Partition))
            Option(s, $"--partition={settings.Partition}");
        Option(s, $"--output={slurmLogPattern}");
        // A requeued task (say, after a node failure) adds to its file instead of wiping what Slurm said the first time.
        Option(s, "--open-mode=append");
        foreach (var extra in settings.ExtraArguments)
            Option(s, extra);
        s.Append($"# Written by `rlw sweep` (RLWorkbench): one array task per trial of {sweepDirectory}/{SweepManifest.FileName}.\n");
        s.Append("set -euo pipefail\n");
        s.Append("case \"$SLURM_ARRAY_TASK_ID\" in\n");
        foreach (var trial in trials.OrderBy(t => t.Index))
            s.Append($"  {trial.Index.ToString(CultureInfo.InvariantCulture)}) trial_dir={Quote(SweepLayout.TrialDirectory(sweepDirectory, trial))} ;;\n");
        s.Append("  *) echo \"array task $SLURM_ARRAY_TASK_ID is not a trial of this submission\" >&2; exit 2 ;;\n");
        s.Append("esac\n");
        s.Append("mkdir -p \"$trial_dir\"\n");
        s.Append($"echo \"== Slurm job ${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}} on $(hostname) at $(date -Is)\" >>\"$trial_dir/{SweepLayout.TrialLog}\"\n");
        // The threads a task may use are the CPUs Slurm gave it, as the local backend gives each worker its one core.
        var cpus = settings.CpusPerTask.ToString(CultureInfo.InvariantCulture);
        s.Append($"export OMP_NUM_THREADS={cpus} MKL_NUM_THREADS={cpus}\n");
        // exec: the worker itself receives scancel's and the time limit's SIGTERM, and stops cleanly at a checkpoint.
        // The worker's last argument, the trial index, is each array task's own id.
        var arguments = SweepLayout.WorkerArguments(sweepDirectory, trialIndex: 0);
        var worker = workerCommand.Concat(arguments.Take(arguments.Count - 1)).Select(Quote);
        s.Append($"exec {string.Join(' ', worker)} \"$SLURM_ARRAY_TASK_ID\" >>\"$trial_dir/{SweepLayout.TrialLog}\" 2>&1\n");
        return s.ToString();
    }

    /// <summary>sbatch's --array list: consecutive indices as ranges ("0-3", "1,3", "0-2,5,7-9").</summary>
    public static string ArraySpec(IEnumerable<int> indices)
    {
        var sorted = indices.Distinct().Order().ToList();
        var parts = new List<string>();
        for (var i = 0; i < sorted.Count;)
        {
            var j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] == sorted[j] + 1)
                j++;
            parts.Add(i == j
                ? sorted[i].ToString(CultureInfo.InvariantCulture)
                : $"{sorted[i].ToString(CultureInfo.InvariantCulture)}-{sorted[j].ToString(CultureInfo.InvariantCulture)}");
            i = j + 1;
        }
        return string.Join(',', parts);
    }

    /// <summary>A word for bash, taken literally.</summary>
    public static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>
    /// Catches what would break the script itself; values sbatch understands differently (a bad --time, an unknown
    /// partition) are sbatch's to refuse, in its own words, before anything runs.
    /// </summary>
    public static void Validate(SlurmSettings settings)
    {
        if (settings.CpusPerTask < 1)
            throw new ExperimentConfigException($"slurm.cpusPerTask is {settings.CpusPerTask}; it must be 1 or more.");
        SingleWord("slurm.mem", settings.Mem);
        SingleWord("slurm.time", settings.Time);
        if (settings.Partition is not null)
            SingleWord("slurm.partition", settings.Partition);
        foreach (var extra in settings.ExtraArguments)
        {
            if (!extra.StartsWith('-') || extra.Any(c => c is '\n' or '\r'))
                throw new ExperimentConfigException($"slurm.extraArguments holds '{extra}', which is not one sbatch option; each entry must start with '-' (for example \"--account=rl\") and be on one line.");
        }
    }

    private static void SingleWord(string path, string value)
    {
        if (value.Length == 0 || value.Any(char.IsWhiteSpace))
            throw new ExperimentConfigException($"{path} is '{value}'; it must be one sbatch value without spaces (for example \"2G\" or \"01:00:00\").");
    }

    private static void Option(StringBuilder s, string option) => s.Append("#SBATCH ").Append(option).Append('\n');
}
