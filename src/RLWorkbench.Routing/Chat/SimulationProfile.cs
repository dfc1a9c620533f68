using System.Text.Json;
using System.Text.Json.Serialization;
using RLWorkbench.Routing.Core;
using RLWorkbench.Tracking;

namespace RLWorkbench.Routing.Chat;

/// <summary>How one provider behaves in the simulation.</summary>
public sealed record SimulatedProvider(
    Distribution LatencySeconds,
    Distribution OutputTokens,
    Distribution JudgeOutputTokens,
    double JudgeLatencyFactor);

/// <summary>A normal distribution by mean and spread (standard deviation); draws are clipped where they are used.</summary>
public sealed record Distribution(double Mean, double Spread);

/// <summary>The judge-score distributions for one (role, provider, task type).</summary>
public sealed record ScoreProfile(
    string Role,
    string Provider,
    string TaskType,
    Distribution Relevance,
    Distribution Accuracy,
    Distribution Completeness,
    [property: JsonPropertyName("agent_match")] Distribution AgentMatch)
{
    public double MeanQuality => (Relevance.Mean + Accuracy.Mean + Completeness.Mean + AgentMatch.Mean) / 4.0;
}

/// <summary>
/// The simulated problem: per (role, provider, task type) the mean and spread of the four judge scores, plus per-provider
/// latency and token distributions. Because the means are known, so is the best routing, which is what a learner is
/// measured against.
/// </summary>
public sealed class SimulationProfile
{
    private readonly Dictionary<(AgentRole, Provider, TaskType), ScoreProfile> scores;

    private SimulationProfile(string description, double judgeFormatErrorRate, IReadOnlyDictionary<Provider, SimulatedProvider> providers, Dictionary<(AgentRole, Provider, TaskType), ScoreProfile> scores)
    {
        Description = description;
        JudgeFormatErrorRate = judgeFormatErrorRate;
        Providers = providers;
        this.scores = scores;
    }

    public string Description { get; }

    /// <summary>Share of simulated judge answers that are not valid JSON, so the parse-failure path is exercised as it is live.</summary>
    public double JudgeFormatErrorRate { get; }

    public IReadOnlyDictionary<Provider, SimulatedProvider> Providers { get; }

    public ScoreProfile Scores(AgentRole role, Provider provider, TaskType type) => scores[(role, provider, type)];

    public static SimulationProfile Default => Parse(EmbeddedData.Read("profile-default.json"), "the embedded default profile");

    public static SimulationProfile Load(string path) =>
        File.Exists(path) ? Parse(File.ReadAllText(path), path) : throw new RoutingInputException(InputFile.Missing("The simulation profile", path));

    public static SimulationProfile Parse(string json, string source)
    {
        ProfileFile? file;
        try
        {
            file = JsonSerializer.Deserialize<ProfileFile>(json, EmbeddedData.Json);
        }
        catch (JsonException e)
        {
            throw new RoutingInputException($"The simulation profile {source} is not valid JSON ({JsonProblem.Describe(e)}).", e);
        }
        if (file?.Providers is null || file.Scores is null)
            throw new RoutingInputException($"The simulation profile {source} needs \"providers\" and \"scores\".");
        var providers = new Dictionary<Provider, SimulatedProvider>();
        foreach (var (name, p) in file.Providers)
        {
            if (p?.LatencySeconds is null || p.OutputTokens is null || p.JudgeOutputTokens is null)
                throw new RoutingInputException($"Provider '{name}' in the simulation profile {source} needs latencySeconds, outputTokens and judgeOutputTokens.");
            providers[RoutingNames.ParseProvider(name)] = p;
        }
        var scores = new Dictionary<(AgentRole, Provider, TaskType), ScoreProfile>();
        foreach (var s in file.Scores)
        {
            if (s.Role is null || s.Provider is null || s.TaskType is null || s.Relevance is null || s.Accuracy is null || s.Completeness is null || s.AgentMatch is null)
                throw new RoutingInputException($"A score entry in the simulation profile {source} is missing role, provider, taskType or one of the four scores.");
            foreach (var d in new[] { s.Relevance, s.Accuracy, s.Completeness, s.AgentMatch })
            {
                if (d.Mean is < 0 or > 1 || d.Spread < 0)
                    throw new RoutingInputException($"Scores for {s.Role}/{s.Provider}/{s.TaskType} in {source} need means in [0, 1] and non-negative spreads.");
            }
            scores[(RoutingNames.ParseAgent(s.Role), RoutingNames.ParseProvider(s.Provider), RoutingNames.ParseTaskType(s.TaskType))] = s;
        }
        foreach (var p in RoutingNames.Providers)
        {
            if (!providers.ContainsKey(p))
                throw new RoutingInputException($"The simulation profile {source} does not describe provider '{p.Name()}'.");
        }
        foreach (var a in RoutingNames.Agents)
        {
            foreach (var p in RoutingNames.Providers)
            {
                foreach (var t in RoutingNames.TaskTypes)
                {
                    if (!scores.ContainsKey((a, p, t)))
                        throw new RoutingInputException($"The simulation profile {source} has no scores for {a.Name()}/{p.Name()} on {t.Name()} tasks (it needs all 32).");
                }
            }
        }
        if (file.JudgeFormatErrorRate is < 0 or > 1)
            throw new RoutingInputException($"judgeFormatErrorRate in {source} must be between 0 and 1.");
        return new SimulationProfile(file.Description ?? "", file.JudgeFormatErrorRate, providers, scores);
    }

    /// <summary>
    /// Expected reward of each action per task type from the means (clipping ignored), using the price table and the
    /// provider's mean tokens and latency: what a perfect learner would converge to.
    /// </summary>
    public IReadOnlyDictionary<TaskType, double[]> ExpectedRewards(TaskBank bank, PriceTable prices, RewardOptions reward, IReadOnlyDictionary<Provider, string> models)
    {
        var result = new Dictionary<TaskType, double[]>();
        foreach (var type in RoutingNames.TaskTypes)
        {
            var tasks = bank.Tasks.Where(t => t.Type == type).ToArray();
            var values = new double[RoutingAction.Count];
            foreach (var action in RoutingAction.All)
            {
                var p = Providers[action.Provider];
                var input = tasks.Length == 0 ? 0 : tasks.Average(t => SimulatedChatClient.EstimateTokens(AgentPrompts.SystemPrompt(action.Agent)) + SimulatedChatClient.EstimateTokens(AgentPrompts.UserMessage(t)));
                var cost = prices.Cost(models[action.Provider], (long)Math.Round(input), (long)Math.Round(p.OutputTokens.Mean));
                var quality = Scores(action.Agent, action.Provider, type).MeanQuality;
                values[action.Index] = Math.Clamp(
                    quality - reward.CostWeight * Math.Min(cost / reward.CostScaleUsd, 1) - reward.LatencyWeight * Math.Min(p.LatencySeconds.Mean / reward.LatencyScaleSeconds, 1), 0, 1);
            }
            result[type] = values;
        }
        return result;
    }

    private sealed record ProfileFile(string? Description, double JudgeFormatErrorRate, Dictionary<string, SimulatedProvider?>? Providers, List<ScoreProfile>? Scores);
}
