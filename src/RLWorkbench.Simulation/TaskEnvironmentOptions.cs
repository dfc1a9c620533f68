namespace RLWorkbench.Simulation;

/// <summary>Which of the seed's two environments to simulate.</summary>
public enum EnvironmentVariant
{
    /// <summary>MultiAgentTaskEnvironment: tasks stay active over several steps.</summary>
    Base,

    /// <summary>WorkerPoolRLEnvironment: submitted tasks run to success or failure within the step.</summary>
    Pool,
}

/// <summary>How the observation vector is laid out.</summary>
public enum ObservationLayout
{
    /// <summary>The 67-value vector of the design (4 visible queue slots with a task type code, three globals).</summary>
    Seed67,

    /// <summary>The notebooks' literal 94-value vector (10 slots, an always-zero flag, no globals).</summary>
    Notebook94,
}

/// <summary>Every setting of the Phase 1 environment, with the seed's values as defaults.</summary>
public sealed record TaskEnvironmentOptions
{
    public const int MinAgents = 1;
    public const int MaxAgents = 5;

    public EnvironmentVariant Variant { get; init; } = EnvironmentVariant.Base;

    public ObservationLayout Layout { get; init; } = ObservationLayout.Seed67;

    public int Agents { get; init; } = 4;

    /// <summary>Episode length; the step that reaches it terminates (not truncates), as in the notebook.</summary>
    public int MaxSteps { get; init; } = 200;

    /// <summary>Initial queue length at reset.</summary>
    public int InitialTasks { get; init; } = 3;

    /// <summary>Pool variant: how many submitted tasks may run at once (the notebook's semaphore).</summary>
    public int MaxConcurrent { get; init; } = 3;

    /// <summary>Pool variant: run submitted tasks on worker threads under the semaphore (results do not depend on it).</summary>
    public bool RunConcurrently { get; init; } = true;

    /// <summary>Pool variant: sleep min(0.05 x complexity, 0.02) s per task like the notebook (results do not depend on it).</summary>
    public bool SimulateLatency { get; init; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the bad value and what is allowed.</summary>
    public TaskEnvironmentOptions Validated()
    {
        if (Agents is < MinAgents or > MaxAgents)
            throw new ArgumentException($"agents must be between {MinAgents} and {MaxAgents}, got {Agents}.");
        if (MaxSteps < 1)
            throw new ArgumentException($"max steps must be at least 1, got {MaxSteps}.");
        if (InitialTasks < 0)
            throw new ArgumentException($"initial tasks must be 0 or more, got {InitialTasks}.");
        if (MaxConcurrent < 1)
            throw new ArgumentException($"max concurrent must be at least 1, got {MaxConcurrent}.");
        if (!Enum.IsDefined(Variant))
            throw new ArgumentException($"unknown variant {Variant}; allowed: base, pool.");
        if (!Enum.IsDefined(Layout))
            throw new ArgumentException($"unknown layout {Layout}; allowed: seed67, notebook94.");
        return this;
    }

    public static EnvironmentVariant ParseVariant(string name) => name.Trim().ToLowerInvariant() switch
    {
        "base" => EnvironmentVariant.Base,
        "pool" or "worker-pool" or "workerpool" => EnvironmentVariant.Pool,
        _ => throw new ArgumentException($"unknown variant '{name}'; allowed: base, pool."),
    };

    public static ObservationLayout ParseLayout(string name) => name.Trim().ToLowerInvariant() switch
    {
        "seed67" => ObservationLayout.Seed67,
        "notebook94" => ObservationLayout.Notebook94,
        _ => throw new ArgumentException($"unknown layout '{name}'; allowed: seed67, notebook94."),
    };

    public static string Name(EnvironmentVariant variant) => variant == EnvironmentVariant.Base ? "base" : "pool";

    public static string Name(ObservationLayout layout) => layout == ObservationLayout.Seed67 ? "seed67" : "notebook94";
}
