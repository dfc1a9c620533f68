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
