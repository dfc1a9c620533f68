using System.Diagnostics;
using System.Globalization;

namespace RLWorkbench.Experiments.Sweeps.Slurm;

/// <summary>The Slurm controller cannot be reached: nothing was submitted (exit code 1 on the command line).</summary>
public sealed class SlurmUnavailableException(string message) : Exception(message);

/// <summary>One array task as squeue sees it.</summary>
/// <param name="JobId">The array's job id (what sbatch printed).</param>
/// <param name="TaskId">The array task id: the trial's index.</param>
/// <param name="State">Slurm's job state: PENDING, RUNNING, COMPLETED, FAILED, TIMEOUT, CANCELLED, NODE_FAIL, OUT_OF_MEMORY, ...</param>
/// <param name="Reason">Why it waits or ended ("Resources", "NonZeroExitCode", "None").</param>
/// <param name="Command">The batch script the job runs: tells this sweep's jobs from a reused id.</param>
public sealed record SlurmTask(string JobId, int TaskId, string State, string Reason, string Command)
{
    private static readonly HashSet<string> EndedStates =
    [
        "COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE",
        "OUT_OF_MEMORY", "REVOKED", "SPECIAL_EXIT",
    ];

    /// <summary>Queued, running or on its way out; anything but a final state.</summary>
    public bool IsActive => !EndedStates.Contains(State);

    /// <summary>"FAILED (NonZeroExitCode)", or the state alone when Slurm gives no reason.</summary>
    public string Describe() => Reason is "" or "None" ? State : $"{State} ({Reason})";
}

/// <summary>
/// Slurm's command-line tools (sbatch, squeue, scontrol) as the backend uses them. Without slurmdbd, sacct answers
/// "accounting storage is disabled", so ended tasks are read from squeue --states=all, which keeps them for
/// the controller's MinJobAge (5 minutes by default); after that, a trial's own status.json is what counts.
/// </summary>
public sealed class SlurmClient
{
    private static readonly string[] Tools = ["sbatch", "squeue", "scontrol"];
    private readonly IReadOnlyDictionary<string, string?> environment;
    private readonly TimeSpan commandTimeout;

    /// <param name="environment">Variables set for every Slurm command (PATH also decides where the tools are found, SLURM_CONF which cluster); none by default.</param>
    /// <param name="commandTimeout">How long one command may take before the controller counts as not answering.</param>
    public SlurmClient(IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? commandTimeout = null)
    {
        this.environment = environment ?? new Dictionary<string, string?>();
        this.commandTimeout = commandTimeout ?? TimeSpan.FromSeconds(30);
    }

    /// <summary>
    /// Throws, before anything is written or submitted, when the tools are missing (<see cref="ExperimentConfigException"/>:
    /// the backend cannot be used here) or the controller does not answer (<see cref="SlurmUnavailableException"/>).
    /// </summary>
    public async Task EnsureAvailableAsync(CancellationToken cancel)
    {
        var missing = Tools.Where(t => Find(t) is null).ToList();
        if (missing.Count > 0)
            throw new ExperimentConfigException(
                $"--backend slurm needs Slurm's sbatch, squeue and scontrol on PATH, and {Listed(missing)} {(missing.Count == 1 ? "is" : "are")} not there; "
                + "run on a cluster's login node, or start a one-machine Slurm with scripts/slurm-local.sh.");
        var pingTimeout = TimeSpan.FromSeconds(15);
        var ping = await RunAsync("scontrol", ["ping"], pingTimeout, cancel);
        // With a backup controller, one "is UP" line is enough.
        if (!ping.Output.Contains(" is UP", StringComparison.Ordinal))
            throw new SlurmUnavailableException(
                $"the Slurm controller does not answer (scontrol ping: {ping.Why("scontrol", pingTimeout)}), so nothing was submitted.");
    }

    /// <summary>Submits a batch script and returns its job id.</summary>
    public async Task<string> SubmitAsync(string scriptPath, CancellationToken cancel)
    {
        var result = await RunAsync("sbatch", ["--parsable", scriptPath], commandTimeout, cancel);
        if (result.ExitCode != 0)
        {
            var why = result.Why("sbatch", commandTimeout).Replace("sbatch: error: ", "", StringComparison.Ordinal);
            if (result.TimedOut || why.Contains("Unable to contact", StringComparison.Ordinal))
                throw new SlurmUnavailableException($"sbatch could not reach the Slurm controller ({why}), so nothing was submitted.");
            throw new ExperimentConfigException($"sbatch refused the job ({why}); check the sweep's slurm settings.");
        }
        // --parsable prints "<id>" or "<id>;<cluster>".
        var id = result.Output.Trim().Split(';')[0];
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            throw new InvalidOperationException($"sbatch printed '{result.Output.Trim()}' where a job id was expected.");
        return id;
    }

    /// <summary>
    /// Every array task of these jobs that the controller still knows, queued, running or recently ended. A job
    /// it no longer knows simply has no rows.
    /// </summary>
    public async Task<IReadOnlyList<SlurmTask>> QueueAsync(IReadOnlyCollection<string> jobIds, CancellationToken cancel)
    {
        if (jobIds.Count == 0)
            return [];
        var result = await RunAsync(
            "squeue", ["--noheader", "--array", "--states=all", $"--jobs={string.Join(',', jobIds)}", "--format=%F|%K|%T|%r|%o"], commandTimeout, cancel);
        if (result.ExitCode != 0)
        {
            // squeue fails this way only when none of the jobs is known any more.
            if (result.Error.Contains("Invalid job id specified", StringComparison.Ordinal))
                return [];
            throw new SlurmUnavailableException($"squeue failed ({result.Why("squeue", commandTimeout)}).");
        }
        return ParseQueue(result.Output);
    }

    /// <summary>
    /// How an ended array task's batch script exited, from scontrol's ExitCode=&lt;code&gt;:&lt;signal&gt;: "exit code 3",
    /// "signal 9", or null when it exited 0 or Slurm no longer knows the task. squeue's reason alone can mislead
    /// (a SIGKILLed script is "JobLaunchFailure").
    /// </summary>
    public async Task<string?> ExitOfAsync(string jobId, int taskId, CancellationToken cancel)
    {
        var result = await RunAsync("scontrol", ["--oneliner", "show", "job", $"{jobId}_{taskId.ToString(CultureInfo.InvariantCulture)}"], commandTimeout, cancel);
        return result.ExitCode == 0 ? ParseExit(result.Output) : null;
    }

    public static string? ParseExit(string scontrolJob)
    {
        var field = scontrolJob.Split(' ', '\n').FirstOrDefault(f => f.StartsWith("ExitCode=", StringComparison.Ordinal));
        var parts = field?["ExitCode=".Length..].Split(':');
        if (parts is not [var code, var signal])
            return null;
        if (signal != "0")
            return $"signal {signal}";
        return code != "0" ? $"exit code {code}" : null;
    }

    /// <summary>Lines of `squeue --array --format=%F|%K|%T|%r|%o`; a pending array not yet split into tasks lists them as "0-3" or "1,3".</summary>
    public static IReadOnlyList<SlurmTask> ParseQueue(string output)
    {
        var tasks = new List<SlurmTask>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = line.Split('|', 5);
            if (fields.Length != 5)
                throw new InvalidOperationException($"squeue printed '{line}' where 'job|task|state|reason|command' was expected.");
            foreach (var task in TaskIds(fields[1]))
                tasks.Add(new SlurmTask(fields[0], task, fields[2], fields[3], fields[4]));
        }
        return tasks;
    }

    private static IEnumerable<int> TaskIds(string field)
    {
        // A pending array can print its remaining tasks as "0-3", "1,3" or "0-9%2" (with a concurrency limit).
        var list = field.Split('%')[0];
        foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var range = part.Split('-');
            if (range.Length == 1)
                yield return int.Parse(range[0], CultureInfo.InvariantCulture);
            else
                for (var i = int.Parse(range[0], CultureInfo.InvariantCulture); i <= int.Parse(range[1], CultureInfo.InvariantCulture); i++)
                    yield return i;
        }
    }

    private string? Find(string tool)
    {
        var path = environment.TryGetValue("PATH", out var p) ? p : Environment.GetEnvironmentVariable("PATH");
        foreach (var dir in (path ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    /// <summary>What a command printed; <see cref="TimedOut"/> when it was stopped for taking too long.</summary>
    private sealed record CommandResult(int ExitCode, string Output, string Error, bool TimedOut = false)
    {
        public string Why(string tool, TimeSpan timeout) =>
            TimedOut ? $"{tool} gave no answer in {timeout.TotalSeconds:0} s" : FirstLine(Error, Output);
    }

    private async Task<CommandResult> RunAsync(string tool, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancel)
    {
        var info = new ProcessStartInfo(Find(tool) ?? tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
            info.ArgumentList.Add(a);
        foreach (var (name, value) in environment)
            info.Environment[name] = value;
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {tool}.");
        var output = process.StandardOutput.ReadToEndAsync(cancel);
        var error = process.StandardError.ReadToEndAsync(cancel);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            cancel.ThrowIfCancellationRequested();
            return new CommandResult(-1, "", "", TimedOut: true);
        }
        return new CommandResult(process.ExitCode, await output, await error);
    }

    /// <summary>"a", "a and b", "a, b and c".</summary>
    private static string Listed(IReadOnlyList<string> names) =>
        names.Count == 1 ? names[0] : $"{string.Join(", ", names.Take(names.Count - 1))} and {names[^1]}";

    private static string FirstLine(string first, string second)
    {
        var text = string.IsNullOrWhiteSpace(first) ? second : first;
        var line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        return line ?? "no output";
    }
}
