using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace RLWorkbench.Experiments.Sweeps;

/// <summary>
/// Runs trials as worker processes on this machine, at most <c>workers</c> at once (default one per core),
/// each with one libtorch/OpenMP thread and its output appended to its trial.log. Cancelling stops every
/// worker cleanly (SIGINT, then waits for them to save); the <c>kill</c> token ends them at once. A worker
/// that ends without recording an end (SIGKILL, a crash) is marked failed with its log path, and the other
/// trials go on.
/// </summary>
public sealed class LocalSweepBackend : ISweepBackend
{
    private const int SigInt = 2;

    private readonly int workers;
    private readonly IReadOnlyList<string> workerCommand;
    private readonly TimeProvider clock;
    private readonly CancellationToken kill;

    /// <param name="workerCommand">What starts `rlw` (default <see cref="WorkerExecutable.Command"/>); tests give the built rlw.dll.</param>
    /// <param name="kill">Ends every worker at once (a second Ctrl+C); their trials are marked failed and rerun later.</param>
    public LocalSweepBackend(int workers, IReadOnlyList<string>? workerCommand = null, TimeProvider? clock = null, CancellationToken kill = default)
    {
        this.workers = SweepSpec.CheckWorkers(workers, "the number of workers");
        this.workerCommand = workerCommand ?? WorkerExecutable.Command();
        this.clock = clock ?? TimeProvider.System;
        this.kill = kill;
    }

    public static int DefaultWorkers => Environment.ProcessorCount;

    public string Name => "local";

    public int Workers => workers;

    public async Task RunAsync(SweepManifest manifest, string sweepDirectory, IReadOnlyList<SweepTrial> trials, Action<string> notice, CancellationToken cancel)
    {
        var waiting = new Queue<SweepTrial>(trials);
        var running = new List<Worker>();
        using var changed = new SemaphoreSlim(0);
        using var onStop = cancel.Register(() => changed.Release());
        using var onKill = kill.Register(() => changed.Release());
        var interrupted = false;
        var killed = false;
        try
        {
            while (true)
            {
                while (!cancel.IsCancellationRequested && running.Count < workers && waiting.TryDequeue(out var next))
                    running.Add(Launch(sweepDirectory, next, changed));
                if (running.Count == 0)
                    break;
                await changed.WaitAsync(CancellationToken.None);
                if (cancel.IsCancellationRequested && !interrupted)
                {
                    interrupted = true;
                    notice($"Stopping: asked {running.Count} worker(s) to save and stop.");
                    foreach (var w in running)
                        Interrupt(w.Process);
                }
                if (kill.IsCancellationRequested && !killed)
                {
                    killed = true;
                    notice($"Killing {running.Count} worker(s).");
                    foreach (var w in running)
                        EndAtOnce(w.Process);
                }
                foreach (var ended in running.Where(w => w.Process.HasExited).ToList())
                {
                    running.Remove(ended);
                    Conclude(manifest, ended, notice, interrupted, killed);
                    ended.Process.Dispose();
                }
            }
        }
        finally
        {
            // Only reached with workers left when this loop itself failed: leave no orphans writing into the sweep.
            foreach (var w in running)
            {
                EndAtOnce(w.Process);
                w.Process.Dispose();
            }
        }
        if (waiting.Count > 0)
            notice($"{waiting.Count} trial(s) not started; running the sweep again starts them.");
    }

    private sealed record Worker(SweepTrial Trial, Process Process, string Directory, string LogPath);

    private Worker Launch(string sweepDirectory, SweepTrial trial, SemaphoreSlim changed)
    {
        var directory = SweepLayout.TrialDirectory(sweepDirectory, trial);
        Directory.CreateDirectory(directory);
        var log = Path.Combine(directory, SweepLayout.TrialLog);
        var arguments = workerCommand.Concat(SweepLayout.WorkerArguments(sweepDirectory, trial.Index)).ToList();
        File.AppendAllText(log, $"=== {clock.GetUtcNow():yyyy-MM-dd HH:mm:ss}Z local worker: {string.Join(' ', arguments)}{Environment.NewLine}");

        // The shell only redirects and then becomes the worker (exec), so the worker's pid is the one
        // signalled and its output goes straight to the file: it outlives this process without a broken pipe.
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$@\" >>\"$RLW_TRIAL_LOG\" 2>&1 </dev/null");
        start.ArgumentList.Add("rlw-sweep-worker");
        foreach (var a in arguments)
            start.ArgumentList.Add(a);
        start.Environment["RLW_TRIAL_LOG"] = log;
        // One thread per worker: the workers are the parallelism, and oversubscribed cores slow every one of them.
        start.Environment["OMP_NUM_THREADS"] = "1";
        start.Environment["MKL_NUM_THREADS"] = "1";
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.Exited += (_, _) => changed.Release();
        process.Start();
        return new Worker(trial, process, directory, log);
    }

    private static void Conclude(SweepManifest manifest, Worker worker, Action<string> notice, bool interrupted, bool killed)
    {
        var id = worker.Trial.Id;
        switch (TrialRecords.StateOf(worker.Directory))
        {
            case TrialState.Finished:
                return;
            case TrialState.Killed:
                if (!interrupted)
                    notice($"Trial {id} was stopped from outside the sweep; running the sweep again continues it (log: {worker.LogPath}).");
                return;
            case TrialState.Failed:
                notice($"Trial {id} failed: {Tracking.RunReader.ReadInfo(worker.Directory).Message ?? "no message"} (log: {worker.LogPath})");
                return;
            default:
                var how = killed ? "was killed by a second Ctrl+C" : Ending(worker.Process.ExitCode);
                var message = $"the worker {how} without recording an end; see {worker.LogPath}";
                TrialRecords.MarkFailed(worker.Directory, manifest.Experiment, message);
                notice($"Trial {id} failed: {message}");
                return;
        }
    }

    /// <summary>How a worker process ended, from its exit status (128 + n is death by signal n).</summary>
    public static string Ending(int exitCode) => exitCode switch
    {
        137 => "was killed (SIGKILL)",
        > 128 and < 160 => $"was ended by signal {(exitCode - 128).ToString(CultureInfo.InvariantCulture)}",
        _ => $"exited with code {exitCode.ToString(CultureInfo.InvariantCulture)}",
    };

    private static void Interrupt(Process process)
    {
        if (!process.HasExited)
            _ = Kill(process.Id, SigInt);
    }

    private static void EndAtOnce(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
