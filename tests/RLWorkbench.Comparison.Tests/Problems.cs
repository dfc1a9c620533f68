using RLWorkbench.Comparison;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Comparison.Tests;

/// <summary>Problems the tests build: the default one, and small profiles whose numbers can be worked out by hand.</summary>
internal static class Problems
{
    public static IReadOnlyDictionary<Provider, ProviderSettings> Providers { get; } = new Dictionary<Provider, ProviderSettings>
    {
        [Provider.OpenAI] = new() { Model = "gpt-4o-mini" },
        [Provider.Anthropic] = new() { Model = "claude-3-5-haiku-latest" },
    };

    public static RoutingProblem Default(bool loadBalanced = false, IReadOnlyList<RoutingAction>? actions = null) =>
        new(TaskBank.Default, SimulationProfile.Default, PriceTable.Default, Providers, Provider.OpenAI, new RewardOptions(), new LoadTrackerOptions(), loadBalanced, actions);

    public static RoutingProblem FromProfile(string profileJson, bool loadBalanced = false, string? pricesJson = null, IReadOnlyList<string>? chains = null) =>
        new(TaskBank.Default, SimulationProfile.Parse(profileJson, "the test profile"),
            pricesJson is null ? PriceTable.Default : PriceTable.Parse(pricesJson, "the test prices"),
            Providers, Provider.OpenAI, new RewardOptions(), new LoadTrackerOptions(), loadBalanced,
            chains: chains?.Select(c => RoutingChain.Parse(c)).ToArray());

    /// <summary>
    /// A profile where every score has the given spread, the matching role scores <paramref name="good"/> on every score and
    /// other roles <paramref name="poor"/>; anthropic is <paramref name="anthropicBonus"/> better for coding only.
    /// </summary>
    public static string Profile(double good = 0.9, double poor = 0.4, double spread = 0.05, double anthropicBonus = 0.05,
        double latencySpread = 0.5, double tokenSpread = 100, double formatErrors = 0.0, double latencyMean = 2.0, double tokensMean = 400, string? chainEffects = null)
    {
        var scores = new List<string>();
        foreach (var role in RoutingNames.Agents)
        {
            foreach (var provider in RoutingNames.Providers)
            {
                foreach (var type in RoutingNames.TaskTypes)
                {
                    var match = (role, type) is (AgentRole.Researcher, TaskType.Research) or (AgentRole.Analyst, TaskType.Analysis)
                        or (AgentRole.Coder, TaskType.Coding) or (AgentRole.Validator, TaskType.Validation);
                    var mean = match ? good : poor;
                    if (provider == Provider.Anthropic && type == TaskType.Coding)
                        mean = Math.Min(1, mean + anthropicBonus);
                    var d = FormattableString.Invariant($"{{\"mean\": {mean}, \"spread\": {spread}}}");
                    scores.Add($"{{\"role\": \"{role.Name()}\", \"provider\": \"{provider.Name()}\", \"taskType\": \"{type.Name()}\", \"relevance\": {d}, \"accuracy\": {d}, \"completeness\": {d}, \"agent_match\": {d}}}");
                }
            }
        }
        var provider0 = FormattableString.Invariant($"{{\"latencySeconds\": {{\"mean\": {latencyMean}, \"spread\": {latencySpread}}}, \"outputTokens\": {{\"mean\": {tokensMean}, \"spread\": {tokenSpread}}}, \"judgeOutputTokens\": {{\"mean\": 60, \"spread\": 0}}, \"judgeLatencyFactor\": 0.4}}");
        var effects = chainEffects is null ? "" : $", \"chainEffects\": {chainEffects}";
        return FormattableString.Invariant($"{{\"description\": \"test\", \"judgeFormatErrorRate\": {formatErrors}, \"providers\": {{\"openai\": {provider0}, \"anthropic\": {provider0}}}, \"scores\": [{string.Join(",\n", scores)}]{effects}}}");
    }
}
