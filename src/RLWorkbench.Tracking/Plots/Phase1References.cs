namespace RLWorkbench.Tracking.Plots;

/// <summary>
/// Fixed policies on the Phase 1 environment (seed67 layout, base variant), drawn as reference lines on PPO
/// learning curves so every figure shows the scale: what random actions, "assign everything, always
/// collaborate" and the expertise-matching greedy rules score. Figures from shared/spec/ppo.md; the
/// workbench's own measurements (`env run --policy ...`) are in docs/phase1-environment.md.
/// </summary>
public static class Phase1References
{
    public sealed record Reference(string Label, double MeanReturn);

    public static readonly Reference Random = new("random actions", 380);

    public static readonly Reference AllOnes = new("all ones (assign all, always collaborate)", 1450);

    public static readonly Reference Greedy = new("greedy on visible expertise", 1530);

    public static readonly Reference GreedyFullInformation = new("greedy with hidden expertise", 1560);

    public static IReadOnlyList<Reference> All { get; } = [Random, AllOnes, Greedy, GreedyFullInformation];
}
