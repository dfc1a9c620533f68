using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Providers;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Comparison;

/// <summary>Bad comparison input (a name, a budget, a file): one sentence for the user, exit code 2 at the command line.</summary>
public sealed class ComparisonInputException(string message) : Exception(message);

/// <summary>
/// One routing problem every learner faces: the task bank, the simulated profile, prices, the provider settings, the reward
/// and (for the load-balanced problem) the load tracker's settings, and which (agent, provider) actions are on offer.
/// The state a learner sees is the task type, or (task type, load state) for the load-balanced problem.
/// </summary>
public sealed class RoutingProblem
{
    public RoutingProblem(
        TaskBank bank,
        SimulationProfile profile,
        PriceTable prices,
        IReadOnlyDictionary<Provider, ProviderSettings> providers,
        Provider judge,
        RewardOptions reward,
        LoadTrackerOptions load,
        bool loadBalanced,
        IReadOnlyList<RoutingAction>? actions = null,
        IReadOnlyList<RoutingChain>? chains = null,
        RewardWeights? weights = null,
        ProviderStateOptions? providerState = null)
    {
        Bank = bank;
        Profile = profile;
        Prices = prices;
        Providers = providers;
        Judge = judge;
        Reward = reward;
        Load = load;
        LoadBalanced = loadBalanced;
        if (actions is not null && chains is not null)
            throw new ArgumentException("A routing problem offers either single actions or chains, not both lists.");
        Chains = chains ?? (actions ?? RoutingAction.All).Select(RoutingChain.Single).ToArray();
        if (Chains.Count < 2)
            throw new ComparisonInputException($"A routing problem needs at least two actions to choose between; this one has {Chains.Count}.");
        if (Chains.Distinct().Count() != Chains.Count)
            throw new ComparisonInputException("The problem's actions list the same (agent, provider) pair or chain twice.");
        RoutesChains = Chains.Any(c => c.Length > 1);
        singleSteps = RoutesChains ? null : Chains.Select(c => c.First).ToArray();
        if (RoutesChains && loadBalanced)
            throw new ComparisonInputException("Chains are routed on the base problem (state = task type); the load-balanced problem routes single agents.");
        if (reward.CostWeight < 0 || reward.LatencyWeight < 0 || !(reward.CostScaleUsd > 0) || !(reward.LatencyScaleSeconds > 0))
            throw new ComparisonInputException("The reward's weights must be non-negative and its cost and latency scales positive.");
        if (load.Window is < 1 or > 10)
            throw new ComparisonInputException($"The exact evaluation of the load-balanced problem handles load windows of 1 to 10 tasks, not {load.Window}.");
        foreach (var p in RoutingNames.Providers)
        {
            if (!providers.ContainsKey(p))
                throw new ComparisonInputException($"The problem has no settings for provider '{p.Name()}'.");
        }
        if (weights is not null && (RoutesChains || loadBalanced))
            throw new ComparisonInputException("Weighted objectives (weights) are compared on the base problem with single (agent, provider) actions; leave out problem.chains and the load-balanced kind.");
        Weights = weights;
        if (providerState is not null && providerState.Limits.IsUnlimited)
            throw new ComparisonInputException("problem.providerState needs a simulation profile with a \"rateLimits\" section (e.g. experiments/profiles/rate-limited.json): without limits there is no provider state to see.");
        ProviderState = providerState;
        actionList = actions;
        chainList = chains;
        TypeProbabilities = RoutingNames.TaskTypes.Select(t => bank.Tasks.Count(x => x.Type == t) / (double)bank.Count).ToArray();
    }

    public TaskBank Bank { get; }

    public SimulationProfile Profile { get; }

    public PriceTable Prices { get; }

    public IReadOnlyDictionary<Provider, ProviderSettings> Providers { get; }

    public Provider Judge { get; }

    public RewardOptions Reward { get; }

    public LoadTrackerOptions Load { get; }

    public bool LoadBalanced { get; }

    /// <summary>
    /// When set, a routed task's reward is these weights' scalarisation of its reward vector (quality, agent cost in USD,
    /// agent latency in seconds, fairness), unclipped; null is the seed's composite reward, bit for bit.
    /// </summary>
    public RewardWeights? Weights { get; }

    private readonly IReadOnlyList<RoutingAction>? actionList;
    private readonly IReadOnlyList<RoutingChain>? chainList;

    /// <summary>The same problem with its reward scalarised by other weights (a Pareto sweep learns one problem per weight vector).</summary>
    public RoutingProblem WithWeights(RewardWeights? weights) =>
        new(Bank, Profile, Prices, Providers, Judge, Reward, Load, LoadBalanced, actionList, chainList, weights, ProviderState);

    /// <summary>
    /// When set, the simulated backend enforces the profile's rate limits on a virtual clock and the observation ends with each
    /// provider's health features; null is the problem without provider state, bit for bit.
    /// </summary>
    public ProviderStateOptions? ProviderState { get; }

    /// <summary>Where the providers' health features start in an observation (after the one-hots).</summary>
    public int HealthFeaturesOffset => LoadBalanced ? TypeCount + LoadStateCount : TypeCount;

    private readonly RoutingAction[]? singleSteps;

    /// <summary>
    /// The chains on offer; a learner's action index i means Chains[i]. Without chains every one is a single (agent, provider)
    /// step, the seed's action space.
    /// </summary>
    public IReadOnlyList<RoutingChain> Chains { get; }

    /// <summary>True when some action is a chain of more than one step.</summary>
    public bool RoutesChains { get; }

    /// <summary>The single (agent, provider) actions on offer, for the learners and baselines that only route single steps.</summary>
    public IReadOnlyList<RoutingAction> Actions =>
        singleSteps ?? throw new InvalidOperationException("This problem routes chains; read Chains, not Actions.");

    public int ActionCount => Chains.Count;

    public static int TypeCount => RoutingNames.TaskTypes.Count;

    public static int LoadStateCount => LoadStates.All.Count;

    /// <summary>Share of the bank per task type: tasks are drawn uniformly from the bank, so types are not equally likely.</summary>
    public IReadOnlyList<double> TypeProbabilities { get; }

    public int StateCount => LoadBalanced ? TypeCount * LoadStateCount : TypeCount;

    /// <summary>One-hot task type, then (load-balanced) one-hot load state, then (provider state) each provider's health features.</summary>
    public int ObservationSize => HealthFeaturesOffset + (ProviderState is null ? 0 : RoutingNames.Providers.Count * ProviderHealthFeatures.PerProvider);

    public int StateIndex(int typeIndex, int loadStateIndex) => LoadBalanced ? typeIndex * LoadStateCount + loadStateIndex : typeIndex;

    public (int Type, int LoadState) StateParts(int state) => LoadBalanced ? (state / LoadStateCount, state % LoadStateCount) : (state, 0);

    public string StateLabel(int state)
    {
        var (type, load) = StateParts(state);
        return LoadBalanced ? $"{RoutingNames.TaskTypes[type].Name()}|{LoadStates.All[load]}" : RoutingNames.TaskTypes[type].Name();
    }

    public void WriteObservation(int state, Span<float> observation)
    {
        observation.Clear();
        var (type, load) = StateParts(state);
        observation[type] = 1f;
        if (LoadBalanced)
            observation[TypeCount + load] = 1f;
        if (ProviderState is not null)
        {
            for (var p = 0; p < RoutingNames.Providers.Count; p++)
                ProviderStateOptions.AssumedHealth.CopyTo(observation.Slice(HealthFeaturesOffset + p * ProviderHealthFeatures.PerProvider));
        }
    }

    /// <summary>
    /// Every state's observation, state-major: how a network's greedy policy is read out. With provider state every provider
    /// reads <see cref="ProviderStateOptions.AssumedHealth"/>, as in <see cref="WriteObservation"/>.
    /// </summary>
    public float[] AllObservations()
    {
        var all = new float[StateCount * ObservationSize];
        for (var s = 0; s < StateCount; s++)
            WriteObservation(s, all.AsSpan(s * ObservationSize, ObservationSize));
        return all;
    }

    public string ActionLabel(int action) => Chains[action].Label;
}
