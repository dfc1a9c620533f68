namespace RLWorkbench.Experiments.Sweeps;

/// <summary>Where everything of a sweep lives inside its directory (a path every node of a cluster can read).</summary>
public static class SweepLayout
{
    /// <summary>Held open exclusively by the process driving the sweep, so a second one into the same directory refuses.</summary>
    public const string LockFile = "sweep.lock";

    public const string TrialsFolder = "trials";

    public const string SlurmFolder = "slurm";

    /// <summary>A trial's output of its worker process (stdout and stderr), inside the trial directory.</summary>
    public const string TrialLog = "trial.log";

    /// <summary>Held open exclusively by the worker running a trial, inside the trial directory, so two workers never write one run.</summary>
    public const string WorkerLock = "worker.lock";

    /// <summary>What a worker writes every few seconds inside its trial directory (<see cref="TrialProgress"/>).</summary>
    public const string ProgressFile = "progress.json";

    public const string ReportMarkdown = "report.md";

    public const string ReportCsv = "report.csv";

    public const string ReportFigure = "learning_curves.png";

    public static string TrialDirectory(string sweepDirectory, SweepTrial trial) =>
        Path.GetFullPath(Path.Combine(sweepDirectory, trial.Directory));

    /// <summary>The arguments after `rlw` that run one trial: `sweep trial &lt;sweep directory&gt; &lt;index&gt;`.</summary>
    public static IReadOnlyList<string> WorkerArguments(string sweepDirectory, int trialIndex) =>
        ["sweep", "trial", Path.GetFullPath(sweepDirectory), trialIndex.ToString(System.Globalization.CultureInfo.InvariantCulture)];
}

/// <summary>progress.json of a running trial: how far it is and how fast it goes.</summary>
public sealed record TrialProgress(long Done, long Total, string Unit, double UnitsPerSecond, DateTimeOffset UpdatedUtc);

/// <summary>How to start this workbench again as a worker process, on this machine or a node that sees the same files.</summary>
public static class WorkerExecutable
{
    /// <summary>
    /// The program and leading arguments that start `rlw`: the apphost when running as one, else
    /// `dotnet &lt;path&gt;/rlw.dll`. Workers run the same build as the process that started the sweep.
    /// </summary>
    public static IReadOnlyList<string> Command()
    {
        var process = Environment.ProcessPath ?? "dotnet";
        var entry = System.Reflection.Assembly.GetEntryAssembly()?.Location;
        if (Path.GetFileNameWithoutExtension(process).Equals("dotnet", StringComparison.OrdinalIgnoreCase) && !string.IsNullOrEmpty(entry))
            return [process, entry];
        return [process];
    }
}
