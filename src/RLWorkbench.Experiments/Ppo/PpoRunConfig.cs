using System.Text.Json;
using System.Text.Json.Serialization;
using RLWorkbench.Ppo;
using RLWorkbench.Simulation;

namespace RLWorkbench.Experiments.Ppo;

/// <summary>Which Phase 1 environment a PPO run trains on (names as the command line spells them).</summary>
public sealed record PpoEnvironmentConfig
{
    public string Variant { get; init; } = "base";

    public string Layout { get; init; } = "seed67";

    public int Agents { get; init; } = 4;

    /// <summary>The environment options these names mean; a bad name is an <see cref="ExperimentConfigException"/> naming what is allowed.</summary>
    public TaskEnvironmentOptions Options()
    {
        try
        {
            return new TaskEnvironmentOptions
            {
                Variant = TaskEnvironmentOptions.ParseVariant(Variant),
                Layout = TaskEnvironmentOptions.ParseLayout(Layout),
                Agents = Agents,
            }.Validated();
        }
        catch (ArgumentException e)
        {
            throw new ExperimentConfigException(e.Message);
        }
    }
}

/// <summary>SB3's optional stop rules on the periodic evaluation (both off by default; docs/ppo.md).</summary>
public sealed record PpoEarlyStopConfig
{
    /// <summary>Stop once the best evaluation mean reaches this; null never.</summary>
    public double? RewardThreshold { get; init; }

    /// <summary>Stop when more than this many evaluations in a row did not beat the best; null never.</summary>
    public int? MaxNoImprovementEvals { get; init; }

    /// <summary>Evaluations before the no-improvement rule starts counting.</summary>
    public int MinEvals { get; init; }
}

/// <summary>
/// The whole resolved configuration of a `ppo` run: experiments/*.json binds to it, command-line options
/// and --set override it, and it is printed at the start and saved as the run's config.json.
/// </summary>
public sealed record PpoRunConfig
{
    public long Steps { get; init; } = 50_000;

    public string Device { get; init; } = "auto";

    public PpoEnvironmentConfig Environment { get; init; } = new();

    public PpoOptions Ppo { get; init; } = new();

    public long EvalEverySteps { get; init; } = 5000;

    public int EvalEpisodes { get; init; } = 10;

    public long CheckpointEverySteps { get; init; } = 10_000;

    /// <summary>libtorch intra-op threads for the update; null means chosen by measuring, one thread or all cores (ComputeDevice.AutoThreads, docs/ppo.md).</summary>
    public int? Threads { get; init; }

    /// <summary>Episodes of the deterministic evaluation at the end of the run (scores.json's Final).</summary>
    public int FinalEvalEpisodes { get; init; } = 100;

    /// <summary>Steps at which to evaluate with <see cref="MilestoneEvalEpisodes"/> episodes (rows of eval_milestones.csv).</summary>
    public long[] MilestoneSteps { get; init; } = [];

    public int MilestoneEvalEpisodes { get; init; } = 100;

    public PpoEarlyStopConfig EarlyStop { get; init; } = new();

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PropertyNameCaseInsensitive = true,
        WriteIndented = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>The first value a run cannot use, as one sentence naming the setting and what is allowed; null when all are fine.</summary>
    public string? Problem()
    {
        if (Steps <= 0 || Steps > 10_000_000_000)
            return $"steps must be between 1 and 10,000,000,000, got {Steps}.";
        if (Device is null || !ComputeDevice.IsKnown(Device))
            return $"unknown device '{Device}'; allowed: {string.Join(", ", ComputeDevice.Choices)}.";
        if (Environment is null || Ppo is null || EarlyStop is null || MilestoneSteps is null)
            return "environment, ppo, earlyStop and milestoneSteps must not be null.";
        if (EvalEverySteps < 0 || EvalEverySteps > 10_000_000_000)
            return $"evalEverySteps must be 0 (no periodic evaluation) or a step count up to 10,000,000,000, got {EvalEverySteps}.";
        if (EvalEpisodes < 1 || EvalEpisodes > 10_000)
            return $"evalEpisodes must be between 1 and 10,000, got {EvalEpisodes}.";
        if (CheckpointEverySteps < 0 || CheckpointEverySteps > 10_000_000_000)
            return $"checkpointEverySteps must be 0 (off) or a step count up to 10,000,000,000, got {CheckpointEverySteps}.";
        if (Threads is { } t && (t < 1 || t > 256))
            return $"threads must be between 1 and 256, got {t}.";
        if (FinalEvalEpisodes < 1 || FinalEvalEpisodes > 10_000)
            return $"finalEvalEpisodes must be between 1 and 10,000, got {FinalEvalEpisodes}.";
        if (MilestoneEvalEpisodes < 1 || MilestoneEvalEpisodes > 10_000)
            return $"milestoneEvalEpisodes must be between 1 and 10,000, got {MilestoneEvalEpisodes}.";
        foreach (var milestone in MilestoneSteps)
        {
            if (milestone <= 0 || milestone > 10_000_000_000)
                return $"milestoneSteps must all be step counts from 1 to 10,000,000,000, got {milestone}.";
        }
        if (EarlyStop.RewardThreshold is { } threshold && !double.IsFinite(threshold))
            return $"earlyStop.rewardThreshold must be a finite number or null, got {threshold}.";
        if (EarlyStop.MaxNoImprovementEvals is < 0)
            return $"earlyStop.maxNoImprovementEvals must be 0 or more (or null for off), got {EarlyStop.MaxNoImprovementEvals}.";
        if (EarlyStop.MaxNoImprovementEvals is > 1_000_000)
            return $"earlyStop.maxNoImprovementEvals must be at most 1,000,000, got {EarlyStop.MaxNoImprovementEvals}.";
        if (EarlyStop.MinEvals < 0 || EarlyStop.MinEvals > 1_000_000)
            return $"earlyStop.minEvals must be between 0 and 1,000,000, got {EarlyStop.MinEvals}.";
        if ((EarlyStop.RewardThreshold is not null || EarlyStop.MaxNoImprovementEvals is not null) && EvalEverySteps == 0)
            return "earlyStop acts on the periodic evaluation, so it needs evalEverySteps above 0.";
        if (Ppo.Problem() is { } problem)
            return $"ppo settings: {problem}";
        return null;
    }

    /// <summary>Episode columns of episodes.csv after step, env, return and length: the Phase 1 environment's final info.</summary>
    public static readonly IReadOnlyList<EpisodeInfoColumn> EpisodeInfo =
    [
        new("tasks_completed", "episode_tasks_completed"),
        new("completion_rate", "completion_rate"),
        new("mean_agent_load", "mean_agent_load"),
        new("mean_collaboration", "mean_collaboration"),
    ];

    /// <summary>Evaluation episodes use seeds far from the training environments', so they are not the same episodes.</summary>
    public int EvaluationSeed() => unchecked(Ppo.Seed + 1_000_000);
}
