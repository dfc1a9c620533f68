namespace RLWorkbench.Tracking.Plots;

/// <summary>
/// Fixed policies on the Phase 1 environment (seed67 layout, base variant), drawn as reference lines on PPO
/// learning curves so every figure shows the scale: what random actions, "assign everything, always
/// collaborate" and the expertise-matching greedy rules score. The workbench's own means over 200 episodes
/// (`env run --policy random|ones|greedy|greedy-full --episodes 200 --seed 0`, docs/phase1-environment.md);
/// the spec's reference model gives about 380, 1450, 1530 and 1560.
/// </summary>
public static class Phase1References
{
    public sealed record Reference(string Label, double MeanReturn);

    public static readonly Reference Random = new("random actions", 393.6);

    public static readonly Reference AllOnes = new("all ones (assign all, always collaborate)", 1457.4);

    public static readonly Reference Greedy = new("greedy on visible expertise", 1536.5);

    public static readonly Reference GreedyFullInformation = new("greedy with hidden expertise", 1567.4);

    public static IReadOnlyList<Reference> All { get; } = [Random, AllOnes, Greedy, GreedyFullInformation];

    /// <summary>
    /// SB3 2.4.1's training curve on the seed configuration (seed 0, seed67 layout; shared/spec/ppo.md): ep_rew_mean
    /// at the rollout ends its table names, every 32,768 steps from 32,768 to 491,520 (the spec rounds them to 33k ... 492k).
    /// </summary>
    public static IReadOnlyList<(long Step, double EpisodeRewardMean)> Sb3SeedCurve { get; } =
    [
        (32_768, 364), (65_536, 415), (98_304, 491), (131_072, 581), (163_840, 727), (196_608, 880), (229_376, 1061), (262_144, 1230),
        (294_912, 1324), (327_680, 1379), (360_448, 1417), (393_216, 1426), (425_984, 1435), (458_752, 1442), (491_520, 1450),
    ];

    /// <summary>The policies that read nothing from the observation, so their figures hold for any layout.</summary>
    public static IReadOnlyList<Reference> ObservationFree { get; } = [Random, AllOnes];

    /// <summary>
    /// The references that hold for a run, from its flattened configuration (environment.variant,
    /// environment.layout, environment.agents): all four on the base variant with 4 agents and the seed67
    /// layout; random and all-ones only under notebook94, whose vector hides the task type the greedy
    /// rules route by; none for any other environment, or when the run does not say it is the base one.
    /// </summary>
    public static IReadOnlyList<Reference> For(IReadOnlyDictionary<string, string> parameters)
    {
        if (!parameters.TryGetValue("environment.variant", out var variant) || !Is(variant, "base"))
            return [];
        if (parameters.TryGetValue("environment.agents", out var agents) && !Is(agents, "4"))
            return [];
        if (!parameters.TryGetValue("environment.layout", out var layout) || Is(layout, "seed67"))
            return All;
        return Is(layout, "notebook94") ? ObservationFree : [];
    }

    /// <summary>The references that hold for every one of several runs drawn together.</summary>
    public static IReadOnlyList<Reference> ForAll(IEnumerable<IReadOnlyDictionary<string, string>> runs)
    {
        IReadOnlyList<Reference>? shared = null;
        foreach (var parameters in runs)
        {
            var these = For(parameters);
            shared = shared is null ? these : [.. shared.Where(these.Contains)];
        }
        return shared ?? [];
    }

    private static bool Is(string value, string expected) => string.Equals(value.Trim(), expected, StringComparison.OrdinalIgnoreCase);
}
