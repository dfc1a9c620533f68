namespace RLWorkbench.Simulation;

/// <summary>The four kinds of work, always in this order (it indexes expertise and the type code).</summary>
public enum TaskType
{
    Research = 0,
    Analysis = 1,
    Execution = 2,
    Validation = 3,
}

/// <summary>Agent roles, assigned to agents in this order.</summary>
public enum AgentRole
{
    Researcher = 0,
    Analyzer = 1,
    Executor = 2,
    Validator = 3,
    Coordinator = 4,
}

/// <summary>One simulated agent of the team; mutable because the dynamics update it every step.</summary>
public sealed class Agent
{
    public const int TaskTypeCount = 4;

    public Agent(AgentRole role) => Role = role;

    public AgentRole Role { get; }

    public double Capacity { get; internal set; }

    /// <summary>Expertise per task type, indexed by <see cref="TaskType"/>.</summary>
    public double[] Expertise { get; } = new double[TaskTypeCount];

    public double Load { get; internal set; }

    public int Completed { get; internal set; }

    public double SuccessRate { get; internal set; } = 1.0;

    /// <summary>Starts at 1 and is never changed by the dynamics; it is still part of the observation.</summary>
    public double CollaborationScore { get; internal set; } = 1.0;

    internal void ResetState()
    {
        Load = 0;
        Completed = 0;
        SuccessRate = 1.0;
        CollaborationScore = 1.0;
    }

    /// <summary>The bookkeeping of a finished task; returns the quality the success rate moved towards.</summary>
    internal double CompleteTask(TaskType type, double complexity)
    {
        var quality = Expertise[(int)type] * SuccessRate;
        Load = Math.Max(0, Load - complexity);
        Completed++;
        SuccessRate = 0.95 * SuccessRate + 0.05 * quality;
        return quality;
    }
}

/// <summary>
/// A unit of work waiting in the queue or being worked on. Keyed by <see cref="Sequence"/>, unique per
/// episode: the notebook keyed active tasks by the random label, so two could overwrite each other.
/// </summary>
public readonly record struct WorkflowTask(long Sequence, TaskType Type, int Label, double Complexity, double Deadline, double Priority);
