namespace RLWorkbench.Simulation;

/// <summary>
/// The worker-pool variant's executor: the tasks submitted in a step run under a semaphore of
/// max_concurrent, on worker threads when asked, and the step waits for all of them. Success numbers
/// are drawn before dispatch and rewards are added in submission order, so the numbers are the same
/// however the threads interleave. Each task in a step belongs to a different agent (one submission
/// per agent), so the concurrent updates never touch the same agent.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private readonly SemaphoreSlim semaphore;
    private readonly bool runConcurrently;
    private readonly bool simulateLatency;
    private readonly List<Submission> submitted = [];
    private readonly List<(double Reward, bool Succeeded)> outcomes = [];
    private int active;
    private int peakActive;

    // Dedicated threads rather than the shared thread pool: tasks must really overlap even when the
    // process's thread pool is busy, as they did on the notebook's executor.
    private readonly Thread[] workers;
    private readonly System.Collections.Concurrent.BlockingCollection<int> pending = [];
    private readonly CountdownEvent finished = new(0);
    private Exception? workerError;

    public WorkerPool(int maxConcurrent, int workerThreads, bool runConcurrently, bool simulateLatency)
    {
        MaxConcurrent = maxConcurrent;
        semaphore = new SemaphoreSlim(maxConcurrent, maxConcurrent);
        this.runConcurrently = runConcurrently;
        this.simulateLatency = simulateLatency;
        workers = runConcurrently ? new Thread[workerThreads] : [];
        for (var i = 0; i < workers.Length; i++)
        {
            workers[i] = new Thread(WorkLoop) { IsBackground = true, Name = $"task-pool-{i}" };
            workers[i].Start();
        }
    }

    private void WorkLoop()
    {
        foreach (var index in pending.GetConsumingEnumerable())
        {
            try
            {
                RunGuarded(index);
            }
            catch (Exception e)
            {
                workerError = e;
            }
            finally
            {
                finished.Signal();
            }
        }
    }

    public int MaxConcurrent { get; }

    public int Active => Volatile.Read(ref active);

    /// <summary>The most tasks seen running at once since the last reset (at most <see cref="MaxConcurrent"/>).</summary>
    public int PeakActive => Volatile.Read(ref peakActive);

    public int Completed { get; private set; }

    public int Failed { get; private set; }

    public void Reset()
    {
        Completed = 0;
        Failed = 0;
        peakActive = 0;
        submitted.Clear();
    }

    public void BeginStep() => submitted.Clear();

    public void Submit(WorkflowTask task, Agent agent, double successDraw) => submitted.Add(new Submission(task, agent, successDraw));

    /// <summary>Runs everything submitted this step and returns the summed execution reward.</summary>
    public double RunSubmitted(out int succeeded)
    {
        outcomes.Clear();
        for (var k = 0; k < submitted.Count; k++)
            outcomes.Add(default);
        if (runConcurrently && submitted.Count > 0)
        {
            finished.Reset(submitted.Count);
            for (var k = 0; k < submitted.Count; k++)
                pending.Add(k);
            finished.Wait();
            if (Interlocked.Exchange(ref workerError, null) is { } error)
                throw new InvalidOperationException("A pool task failed.", error);
        }
        else
        {
            for (var k = 0; k < submitted.Count; k++)
                RunGuarded(k);
        }

        succeeded = 0;
        var reward = 0.0;
        for (var k = 0; k < submitted.Count; k++)
        {
            reward += outcomes[k].Reward;
            if (outcomes[k].Succeeded)
                succeeded++;
        }
        Completed += succeeded;
        Failed += submitted.Count - succeeded;
        return reward;
    }

    private void RunGuarded(int index)
    {
        semaphore.Wait();
        var running = Interlocked.Increment(ref active);
        for (var peak = peakActive; running > peak; peak = peakActive)
            Interlocked.CompareExchange(ref peakActive, running, peak);
        try
        {
            outcomes[index] = Execute(submitted[index]);
        }
        finally
        {
            Interlocked.Decrement(ref active);
            semaphore.Release();
        }
    }

    private (double Reward, bool Succeeded) Execute(Submission s)
    {
        if (simulateLatency)
            Thread.Sleep(TimeSpan.FromSeconds(Math.Min(0.05 * s.Task.Complexity, 0.02)));
        var expertise = s.Agent.Expertise[(int)s.Task.Type];
        if (s.SuccessDraw < expertise * s.Agent.Capacity)
            return (10 * s.Agent.CompleteTask(s.Task.Type, s.Task.Complexity), true);
        return (-2, false);
    }

    public void Dispose()
    {
        pending.CompleteAdding();
        foreach (var worker in workers)
            worker.Join();
        pending.Dispose();
        finished.Dispose();
        semaphore.Dispose();
    }

    private readonly record struct Submission(WorkflowTask Task, Agent Agent, double SuccessDraw);
}
