using RLWorkbench.Gym;
using RLWorkbench.Gym.Random;
using RLWorkbench.Gym.Spaces;

namespace RLWorkbench.Simulation;

/// <summary>
/// The seed's simulated multi-agent task workflow (base and worker-pool variants), step for step as
/// the Phase 1 spec describes: the golden traces replay against this class draw by draw.
/// </summary>
public sealed class TaskEnvironment : IEnv
{
    /// <summary>Info keys every variant reports after each step.</summary>
    public static readonly string[] InfoKeys =
    [
        "completed_tasks", "queue_length", "active_tasks", "mean_success_rate",
        "episode_tasks_completed", "completion_rate", "mean_agent_load", "mean_collaboration",
    ];

    /// <summary>Extra info keys of the worker-pool variant: the pool's own counters.</summary>
    public static readonly string[] PoolInfoKeys =
    [
        "pool_active", "pool_completed", "pool_failed", "pool_total_processed", "max_concurrent", "pool_peak_active",
    ];

    private const double AssignThreshold = 0.5;
    private const double CollaborationThreshold = 0.7;
    private const double ArrivalProbability = 0.3;

    private readonly IRandomSource random;
    private readonly ObservationEncoder encoder;
    private readonly Agent[] agents;
    private readonly double[] collaboration;
    private readonly TaskQueue queue = new();
    private readonly List<(WorkflowTask Task, int Agent)> active = [];
    private readonly float[] clipped;
    private readonly Box actionBox;
    private readonly WorkerPool? pool;
    private int t;
    private long nextSequence;
    private int episodeCompleted;

    public TaskEnvironment(TaskEnvironmentOptions options, IRandomSource random)
    {
        Options = options.Validated();
        this.random = random;
        var n = options.Agents;
        encoder = new ObservationEncoder(options.Layout, n);
        agents = new Agent[n];
        for (var i = 0; i < n; i++)
            agents[i] = new Agent((AgentRole)i);
        collaboration = new double[n * n];
        clipped = new float[3 * n];
        actionBox = new Box(0f, 1f, 3 * n);
        ActionSpace = actionBox;
        ObservationSpace = new Box(float.NegativeInfinity, float.PositiveInfinity, encoder.Size);
        if (options.Variant == EnvironmentVariant.Pool)
        {
            pool = new WorkerPool(options.MaxConcurrent, workerThreads: n, options.RunConcurrently, options.SimulateLatency);
            Info = new EnvInfo([.. InfoKeys, .. PoolInfoKeys]);
        }
        else
        {
            Info = new EnvInfo(InfoKeys);
        }
    }

    /// <summary>A base-variant environment with its own seeded random source.</summary>
    public TaskEnvironment(TaskEnvironmentOptions options, long seed = 0)
        : this(options, new SeededRandomSource(seed))
    {
    }

    public TaskEnvironmentOptions Options { get; }

    public Space ObservationSpace { get; }

    public Space ActionSpace { get; }

    public EnvInfo Info { get; }

    public IRandomSource Random => random;

    public int Time => t;

    public IReadOnlyList<Agent> Agents => agents;

    public TaskQueue Queue => queue;

    public int ActiveTasks => active.Count;

    /// <summary>The n x n collaboration matrix, row by row.</summary>
    public ReadOnlySpan<double> Collaboration => collaboration;

    public void Reset(int? seed, Span<float> observation)
    {
        if (seed is { } s)
            random.Seed(s);
        t = 0;
        nextSequence = 0;
        episodeCompleted = 0;
        foreach (var agent in agents)
            CreateAgent(agent);
        queue.Clear();
        for (var i = 0; i < Options.InitialTasks; i++)
            queue.Enqueue(CreateTask());
        active.Clear();
        Array.Fill(collaboration, 1.0);
        pool?.Reset();
        WriteInfo(completedThisStep: 0);
        encoder.Write(observation, agents, queue, active.Count, collaboration, t, Options.MaxSteps);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        CheckAction(action);
        // The notebook saw actions clipped to the box because SB3 clips before calling step.
        actionBox.Clip(action, clipped);
        t++;
        var completedThisStep = 0;
        var reward = Options.Variant == EnvironmentVariant.Base
            ? AssignAndProgress(ref completedThisStep)
            : SubmitToPool(ref completedThisStep);
        reward += Collaborate();
        if (random.Random() < ArrivalProbability)
            queue.Enqueue(CreateTask());
        reward -= 0.1 * queue.Count;
        if (Options.Variant == EnvironmentVariant.Base)
            reward -= 0.5 * OverdueActiveTasks();

        episodeCompleted += completedThisStep;
        WriteInfo(completedThisStep);
        encoder.Write(observation, agents, queue, active.Count, collaboration, t, Options.MaxSteps);
        return new StepResult(reward, Terminated: t >= Options.MaxSteps, Truncated: false);
    }

    private void CheckAction(ReadOnlySpan<float> action)
    {
        if (action.Length != clipped.Length)
            throw new ArgumentException($"The action has {action.Length} values; this environment with {agents.Length} agents takes {clipped.Length} (3 per agent).", nameof(action));
        for (var i = 0; i < action.Length; i++)
        {
            if (!float.IsFinite(action[i]))
                throw new ArgumentException($"Action value {i} is {action[i]}; every value must be a finite number (it is clipped to [0, 1]).", nameof(action));
        }
    }

    private void CreateAgent(Agent agent)
    {
        agent.ResetState();
        for (var type = 0; type < Agent.TaskTypeCount; type++)
            agent.Expertise[type] = random.Uniform(0.5, 1.0);
        if (BoostedType(agent.Role) is { } boosted)
            agent.Expertise[(int)boosted] = Math.Min(1.0, agent.Expertise[(int)boosted] + 0.3);
        agent.Capacity = random.Uniform(0.8, 1.0);
    }

    /// <summary>The task type a role is good at; the base notebook boosts only researcher and analyzer.</summary>
    private TaskType? BoostedType(AgentRole role) => (role, Options.Variant) switch
    {
        (AgentRole.Researcher, _) => TaskType.Research,
        (AgentRole.Analyzer, _) => TaskType.Analysis,
        (AgentRole.Executor, EnvironmentVariant.Pool) => TaskType.Execution,
        (AgentRole.Validator, EnvironmentVariant.Pool) => TaskType.Validation,
        _ => null,
    };

    private WorkflowTask CreateTask()
    {
        var type = (TaskType)random.Choice(4);
        if (Options.Variant == EnvironmentVariant.Pool)
        {
            var poolComplexity = random.Uniform(0.3, 1.0);
            var poolDeadline = random.Uniform(10, 50);
            var poolPriority = random.Uniform(0.1, 1.0);
            return new WorkflowTask(++nextSequence, type, Label: (int)nextSequence, poolComplexity, poolDeadline, poolPriority);
        }

        var label = random.Integer(0, 10000);
        var complexity = random.Uniform(0.3, 1.0);
        // The notebook draws 1-2 "requirements" that nothing reads; drawn so the sequence lines up.
        var requirements = random.Integer(1, 3);
        for (var i = 0; i < requirements; i++)
            random.Choice(4);
        var deadline = random.Uniform(10, 50);
        var priority = random.Uniform(0.1, 1.0);
        return new WorkflowTask(++nextSequence, type, label, complexity, deadline, priority);
    }

    private double AssignAndProgress(ref int completedThisStep)
    {
        var reward = 0.0;
        for (var i = 0; i < agents.Length; i++)
        {
            if (queue.Count > 0 && clipped[3 * i] > AssignThreshold)
            {
                var task = queue.Dequeue();
                active.Add((task, i));
                agents[i].Load += task.Complexity;
                reward += agents[i].Expertise[(int)task.Type] * task.Priority;
            }
        }

        // Progress in assignment order, keeping the ones still running in place.
        var kept = 0;
        for (var k = 0; k < active.Count; k++)
        {
            var (task, i) = active[k];
            var agent = agents[i];
            var expertise = agent.Expertise[(int)task.Type];
            if (random.Random() < expertise * agent.Capacity)
            {
                agent.CompleteTask(task.Type, task.Complexity);
                completedThisStep++;
                var timeBonus = Math.Max(0, 1 - t / task.Deadline);
                reward += expertise * agent.SuccessRate * task.Priority * (1 + timeBonus) * 10;
            }
            else
            {
                active[kept++] = active[k];
            }
        }
        active.RemoveRange(kept, active.Count - kept);
        return reward;
    }

    private double SubmitToPool(ref int completedThisStep)
    {
        var p = pool!;
        p.BeginStep();
        var reward = 0.0;
        for (var i = 0; i < agents.Length; i++)
        {
            if (queue.Count > 0 && clipped[3 * i] > AssignThreshold)
            {
                var task = queue.Dequeue();
                reward += 2 * agents[i].Expertise[(int)task.Type] * task.Priority;
                // Drawn here, in submission order, so that results do not depend on thread timing.
                p.Submit(task, agents[i], random.Random());
            }
        }
        reward += p.RunSubmitted(out var succeeded);
        completedThisStep += succeeded;
        return reward;
    }

    private double Collaborate()
    {
        var n = agents.Length;
        var reward = 0.0;
        for (var i = 0; i < n; i++)
        {
            if (clipped[3 * i + 2] <= CollaborationThreshold)
                continue;
            for (var j = 0; j < n; j++)
            {
                if (i != j && clipped[3 * j + 2] > CollaborationThreshold)
                {
                    collaboration[i * n + j] *= 1.01;
                    reward += 0.5;
                }
            }
        }
        return reward;
    }

    private int OverdueActiveTasks()
    {
        var overdue = 0;
        foreach (var (task, _) in active)
        {
            if (t > task.Deadline)
                overdue++;
        }
        return overdue;
    }

    private void WriteInfo(int completedThisStep)
    {
        var successSum = 0.0;
        var loadSum = 0.0;
        foreach (var agent in agents)
        {
            successSum += agent.SuccessRate;
            loadSum += agent.Load;
        }
        var collaborationSum = 0.0;
        foreach (var value in collaboration)
            collaborationSum += value;
        var waiting = queue.Count + active.Count;
        Info[0] = completedThisStep;
        Info[1] = queue.Count;
        Info[2] = active.Count;
        Info[3] = successSum / agents.Length;
        Info[4] = episodeCompleted;
        Info[5] = episodeCompleted + waiting == 0 ? 0 : (double)episodeCompleted / (episodeCompleted + waiting);
        Info[6] = loadSum / agents.Length;
        Info[7] = collaborationSum / collaboration.Length;
        if (pool is not null)
        {
            Info[8] = pool.Active;
            Info[9] = pool.Completed;
            Info[10] = pool.Failed;
            Info[11] = pool.Completed + pool.Failed;
            Info[12] = pool.MaxConcurrent;
            Info[13] = pool.PeakActive;
        }
    }

    public void Dispose() => pool?.Dispose();
}
