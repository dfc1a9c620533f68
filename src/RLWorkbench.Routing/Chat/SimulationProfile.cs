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

/// <summary>How much a refinement step changes quality when work passes from one agent to another on one task type.</summary>
public sealed record ChainGain(string TaskType, string From, string To, double Gain);

/// <summary>
/// The chain effects of a profile: ordered agent-pair gains per task type (missing pairs are 0: the receiving step changes
/// nothing) and the diminishing factor applied once per step after the second.
/// </summary>
public sealed record ChainEffects(double Diminishing = 0.5, IReadOnlyList<ChainGain>? Gains = null);

/// <summary>
/// The simulated problem: per (role, provider, task type) the mean and spread of the four judge scores, plus per-provider
/// latency and token distributions. Because the means are known, so is the best routing, which is what a learner is
/// measured against.
/// </summary>
public sealed class SimulationProfile
{
    private readonly Dictionary<(AgentRole, Provider, TaskType), ScoreProfile> scores;

    private readonly Dictionary<(TaskType, AgentRole, AgentRole), double> gains;

    private SimulationProfile(
        string description,
        double judgeFormatErrorRate,
        IReadOnlyDictionary<Provider, SimulatedProvider> providers,
        Dictionary<(AgentRole, Provider, TaskType), ScoreProfile> scores,
        double chainDiminishing,
        Dictionary<(TaskType, AgentRole, AgentRole), double> gains)
    {
        Description = description;
        JudgeFormatErrorRate = judgeFormatErrorRate;
        Providers = providers;
        this.scores = scores;
        ChainDiminishing = chainDiminishing;
        this.gains = gains;
    }

    public string Description { get; }

    /// <summary>Share of simulated judge answers that are not valid JSON, so the parse-failure path is exercised as it is live.</summary>
    public double JudgeFormatErrorRate { get; }

    public IReadOnlyDictionary<Provider, SimulatedProvider> Providers { get; }

    public ScoreProfile Scores(AgentRole role, Provider provider, TaskType type) => scores[(role, provider, type)];

    /// <summary>The factor a refinement step's change shrinks by for each step after the second (1: no shrinking).</summary>
    public double ChainDiminishing { get; }

    /// <summary>gain(T, A, B) in [-1, 1]: positive when B improves A's work on type T, negative when the pair works badly together.</summary>
    public double Gain(TaskType type, AgentRole from, AgentRole to) => gains.GetValueOrDefault((type, from, to));

    /// <summary>
    /// The chain's change to the mean quality: starting from the first step's mean quality q, each step k >= 2 (1-based)
    /// handing over from A to B moves q by g = gain(T, A, B) x (B's own mean quality with its provider on T) x diminishing^(k-2),
    /// into the headroom (q += g (1 - q)) when g > 0 and out of what is there (q += g q) when g &lt; 0. Zero for a single step.
    /// </summary>
    public double ChainQualityChange(RoutingChain chain, TaskType type)
    {
        var first = Scores(chain.First.Agent, chain.First.Provider, type).MeanQuality;
        var q = first;
        var shrink = 1.0;
        for (var k = 1; k < chain.Length; k++)
        {
            var to = chain.Steps[k];
            var g = Gain(type, chain.Steps[k - 1].Agent, to.Agent) * Scores(to.Agent, to.Provider, type).MeanQuality * shrink;
            q += g > 0 ? g * (1 - q) : g * q;
            shrink *= ChainDiminishing;
        }
        return q - first;
    }

    /// <summary>
    /// The judge's four score distributions for a chain: the first step's, every mean shifted by the chain's quality change and
    /// clipped into [0, 1], spreads unchanged. A single step's are its own, the very same object.
    /// </summary>
    public ScoreProfile ChainScores(RoutingChain chain, TaskType type)
    {
        var first = Scores(chain.First.Agent, chain.First.Provider, type);
        if (chain.Length == 1)
            return first;
        var change = ChainQualityChange(chain, type);
        Distribution Shift(Distribution d) => d with { Mean = Math.Clamp(d.Mean + change, 0, 1) };
        return first with
        {
            Role = chain.Label,
            Relevance = Shift(first.Relevance),
            Accuracy = Shift(first.Accuracy),
            Completeness = Shift(first.Completeness),
            AgentMatch = Shift(first.AgentMatch),
        };
    }

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
        var effects = file.ChainEffects ?? new ChainEffects();
        if (effects.Diminishing is < 0 or > 1 || double.IsNaN(effects.Diminishing))
            throw new RoutingInputException($"chainEffects.diminishing in {source} must be between 0 and 1, not {effects.Diminishing}.");
        var gains = new Dictionary<(TaskType, AgentRole, AgentRole), double>();
        foreach (var g in effects.Gains ?? [])
        {
            if (g?.TaskType is null || g.From is null || g.To is null)
                throw new RoutingInputException($"A chain gain in the simulation profile {source} is missing taskType, from or to.");
            var key = (RoutingNames.ParseTaskType(g.TaskType), RoutingNames.ParseAgent(g.From), RoutingNames.ParseAgent(g.To));
            if (key.Item2 == key.Item3)
                throw new RoutingInputException($"The chain gain {g.From}>{g.To} on {g.TaskType} tasks in {source} hands over to the same agent; a chain never repeats an agent.");
            if (g.Gain is < -1 or > 1 || double.IsNaN(g.Gain))
                throw new RoutingInputException($"The chain gain {g.From}>{g.To} on {g.TaskType} tasks in {source} is {g.Gain}; gains must be between -1 and 1.");
            if (!gains.TryAdd(key, g.Gain))
                throw new RoutingInputException($"The simulation profile {source} lists the chain gain {g.From}>{g.To} on {g.TaskType} tasks twice.");
        }
        return new SimulationProfile(file.Description ?? "", file.JudgeFormatErrorRate, providers, scores, effects.Diminishing, gains);
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

    private sealed record ProfileFile(
        string? Description, double JudgeFormatErrorRate, Dictionary<string, SimulatedProvider?>? Providers, List<ScoreProfile>? Scores, ChainEffects? ChainEffects);
}
