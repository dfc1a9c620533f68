using System.Globalization;
using System.Text.RegularExpressions;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Sweeps.Slurm;

/// <summary>One sbatch submission of a sweep: slurm/sweep-&lt;n&gt;.sbatch and the job id sbatch gave it.</summary>
public sealed record SlurmSubmission(int Number, string ScriptPath, string JobId)
{
    /// <summary>The job's --output file for one array task: what Slurm itself said about it.</summary>
    public string SlurmLog(int taskId) => SlurmSubmissions.SlurmLogPattern(ScriptPath).Replace("%a", taskId.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
}

/// <summary>
/// The submissions recorded in a sweep's slurm/ folder, so a rerun can tell which of its trials are still queued or
/// running and follow them instead of submitting them twice.
/// </summary>
public static partial class SlurmSubmissions
{
    public const string JobIdExtension = ".jobid";

    public static string Folder(string sweepDirectory) => Path.Combine(Path.GetFullPath(sweepDirectory), SweepLayout.SlurmFolder);

    public static IReadOnlyList<SlurmSubmission> Read(string sweepDirectory)
    {
        var folder = Folder(sweepDirectory);
        if (!Directory.Exists(folder))
            return [];
        var submissions = new List<SlurmSubmission>();
        foreach (var file in Directory.EnumerateFiles(folder, "sweep-*" + JobIdExtension))
        {
            var match = NumberPattern().Match(Path.GetFileName(file));
            if (!match.Success)
                continue;
            var number = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            submissions.Add(new SlurmSubmission(number, ScriptPath(sweepDirectory, number), File.ReadAllText(file).Trim()));
        }
        return submissions.OrderBy(s => s.Number).ToList();
    }

    /// <summary>The script path of the next submission (sweep-1.sbatch, sweep-2.sbatch, ...).</summary>
    public static string NextScriptPath(string sweepDirectory)
    {
        var folder = Folder(sweepDirectory);
        var used = Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "sweep-*")
                .Select(f => NumberPattern().Match(Path.GetFileName(f)))
                .Where(m => m.Success)
                .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))
                .DefaultIfEmpty(0)
                .Max()
            : 0;
        return ScriptPath(sweepDirectory, used + 1);
    }

    public static SlurmSubmission Record(string scriptPath, string jobId)
    {
        AtomicFile.WriteAllText(Path.ChangeExtension(scriptPath, JobIdExtension), jobId + "\n");
        var number = int.Parse(NumberPattern().Match(Path.GetFileName(scriptPath)).Groups[1].Value, CultureInfo.InvariantCulture);
        return new SlurmSubmission(number, scriptPath, jobId);
    }

    /// <summary>slurm/sweep-&lt;n&gt;_%a.log: sbatch's --output pattern beside the script.</summary>
    public static string SlurmLogPattern(string scriptPath) =>
        Path.Combine(Path.GetDirectoryName(scriptPath)!, Path.GetFileNameWithoutExtension(scriptPath) + "_%a.log");

    private static string ScriptPath(string sweepDirectory, int number) =>
        Path.Combine(Folder(sweepDirectory), $"sweep-{number.ToString(CultureInfo.InvariantCulture)}.sbatch");

    [GeneratedRegex(@"^sweep-(\d+)[._]")]
    private static partial Regex NumberPattern();
}
