using System.Text.Json;
using System.Text.Json.Serialization;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Providers;
using RLWorkbench.Tracking;

namespace RLWorkbench.Routing.Workflow;

/// <summary>
/// Every setting of a qlearn run, bound from experiments/qlearn*.json and the command line, printed at the start and saved
/// as the run's config.json with every default filled in. Defaults are the seed's.
/// </summary>
public sealed record QlearnOptions
{
    /// <summary>"base" (state = task type, 30 iterations) or "load-balanced" (state = type x load, 50 iterations).</summary>
    public string Learner { get; init; } = TaskTypeCoordinator.Name;

    /// <summary>
    /// How rewards become routing: "q-learning" (the seed's, the default), "ucb1" or "thompson" (contextual bandits on
    /// per-(state, action) sample means), or "composed" (per-step values that compose into a chain's, shared across chains).
    /// The state is still the coordinator's: task type, or type x load with load-balanced.
    /// </summary>
    public string Algorithm { get; init; } = RoutingAlgorithms.QLearning;

    /// <summary>UCB1's exploration and Thompson sampling's noise (used only by those algorithms).</summary>
    public BanditOptions Bandits { get; init; } = new();

    /// <summary>The composed learner's prior, noise, exploration and pair components (used only by "composed"; compare's defaults).</summary>
    public ComposedLearnerOptions Composed { get; init; } = new();

    /// <summary>Null takes the learner's seed length: 30 for base, 50 for load-balanced.</summary>
    public int? Iterations { get; init; }

    public long Seed { get; init; } = 42;

    /// <summary>Iterations in flight at once; 1 is the seed's sequential loop.</summary>
    public int Concurrency { get; init; } = 1;

    /// <summary>"simulated" (the default: no network, no spend), "real" (OpenAI and Anthropic), or "replay" (a cassette).</summary>
    public string Backend { get; init; } = Backends.Simulated;

    /// <summary>Simulation profile file; null is the embedded experiments/profiles/default.json.</summary>
    public string? Profile { get; init; }

    /// <summary>Wall-clock seconds each simulated call takes (the concurrency benchmark uses 1); 0 answers at once.</summary>
    public double SimulatedCallSeconds { get; init; }

    /// <summary>Task bank file; null is the embedded experiments/tasks.json.</summary>
    public string? Tasks { get; init; }

    /// <summary>Price table file; null is the embedded experiments/prices.json.</summary>
    public string? Prices { get; init; }

    public Dictionary<string, ProviderSettings> Providers { get; init; } = DefaultProviders();

    /// <summary>Each registered provider's default model (the seed's gpt-4o-mini and claude-3-5-haiku-latest), with the default sampling settings.</summary>
    public static Dictionary<string, ProviderSettings> DefaultProviders() =>
        ProviderRegistry.Entries.ToDictionary(e => e.Name, e => new ProviderSettings { Model = e.DefaultModel });

    /// <summary>The provider that judges every answer (the seed used OpenAI).</summary>
    public string JudgeProvider { get; init; } = "openai";

    public int JudgeOutputChars { get; init; } = JudgePrompt.DefaultOutputChars;

    /// <summary>
    /// The chains the run routes to: every chain of distinct agents up to <c>maxLength</c> steps, or the <c>allowed</c> list.
    /// The default (one step) is the seed's eight single (agent, provider) actions.
    /// </summary>
    public ChainOptions Chains { get; init; } = new();

    /// <summary>The chains on offer, in the learner's action order (a bad chain is one sentence naming it).</summary>
    public IReadOnlyList<RoutingChain> ChainList() => Chains.Enumerate();

    /// <summary>
    /// The providers the run can send a call to: every step of the chains on offer, and the judge. A real run needs keys for
    /// these only, so chains on one provider (a local OpenAI-compatible server, say) need no other provider's key.
    /// </summary>
    public IReadOnlyList<Provider> ProvidersCalled() =>
        ChainList().SelectMany(c => c.Steps).Select(s => s.Provider).Append(RoutingNames.ParseProvider(JudgeProvider)).Distinct().Order().ToArray();

    /// <summary>Null takes the learner's defaults (epsilon decay 0.97 base, 0.98 load-balanced).</summary>
    public QLearningOptions? QLearning { get; init; }

    public LoadTrackerOptions Load { get; init; } = new();

    public RewardOptions Reward { get; init; } = new();

    /// <summary>
    /// What the learner learns: null is the seed's composite reward (every number as before); weights, as
    /// "quality=1,cost=20,latency=0.05,fairness=0.1" or {"quality": 1, "cost": 20}, scalarise each task's reward vector.
    /// </summary>
    public RewardWeights? Weights { get; init; }

    /// <summary>
    /// "coordinator" (the default: task type, or type x load) or "health": the coordinator's state with both providers'
    /// bucketed health appended (headroom x latency, 16 each, docs/providers.md), so the learner can route by provider load.
    /// </summary>
    public string State { get; init; } = StateKinds.Coordinator;

    /// <summary>Where the "health" state's buckets split (low headroom, fast and slow seconds).</summary>
    public HealthBucketOptions HealthBuckets { get; init; } = new();

    /// <summary>
    /// Tasks arriving per minute (a Poisson process on the simulated providers' clock, from its own seeded stream); null
    /// sends each task as soon as the previous one is done, as the seed did. Needs a profile with a "rateLimits" section.
    /// </summary>
    public double? ArrivalsPerMinute { get; init; }

    public static class StateKinds
    {
        public const string Coordinator = "coordinator";
        public const string Health = "health";
    }

    public ResilienceOptions Resilience { get; init; } = new();

    /// <summary>Hard cap in USD on the run's spend; the run stops before an iteration whose worst case would pass it.</summary>
    public double? BudgetUsd { get; init; }

    /// <summary>
    /// Calls answered with a body that is not valid for the provider's API that a run tolerates: each is recorded and scored
    /// as a failed call (like a judge parse failure); one more stops the run as failed.
    /// </summary>
    public int MaxFailedCalls { get; init; } = DefaultMaxFailedCalls;

    public const int DefaultMaxFailedCalls = 5;

    /// <summary>Cassette to append every exchange to (any backend but replay).</summary>
    public string? Record { get; init; }

    /// <summary>Cassette to answer from (backend "replay").</summary>
    public string? Replay { get; init; }

    public static class Backends
    {
        public const string Simulated = "simulated";
        public const string Real = "real";
        public const string Replay = "replay";
    }

    /// <summary>Fills the learner-dependent defaults and refuses anything a run cannot use, each with one sentence.</summary>
    public QlearnOptions Resolve()
    {
        if (Learner is not (TaskTypeCoordinator.Name or LoadBalancedCoordinator.Name))
            throw new RoutingInputException($"Unknown learner '{Learner}'; the learners are {TaskTypeCoordinator.Name} and {LoadBalancedCoordinator.Name}.");
        if (!RoutingAlgorithms.All.Contains(Algorithm))
            throw new RoutingInputException(RoutingAlgorithms.Unknown(Algorithm));
        if (Bandits?.Problem() is { } banditProblem)
            throw new RoutingInputException(banditProblem);
        if (Bandits is null)
            throw new RoutingInputException("The bandit settings must not be null.");
        if (Composed is null)
            throw new RoutingInputException("'composed' cannot be null; give its settings, or leave it out for the defaults.");
        if (Composed.Problem() is { } composedProblem)
            throw new RoutingInputException(composedProblem);
        // A cassette otherwise selects the replay backend by itself; with "real" asked for explicitly (by
        // --real or a configuration file) that would silently make no calls.
        if (Backend == Backends.Real && Replay is not null)
            throw new RoutingInputException("The real backend and a replay cassette cannot be combined: a replay makes no calls.");
        var loadBalanced = Learner == LoadBalancedCoordinator.Name;
        var resolved = this with
        {
            Iterations = Iterations ?? (loadBalanced ? 50 : 30),
            QLearning = QLearning ?? (loadBalanced ? QLearningOptions.LoadBalancedDefaults : new QLearningOptions()),
            Backend = Replay is not null ? Backends.Replay : Backend,
        };
        var limits = SettingLimits.Whole("iterations", resolved.Iterations!.Value, 1, 1_000_000)
            ?? SettingLimits.Whole("concurrency", Concurrency, 1, 256)
            ?? SettingLimits.Budget(BudgetUsd, "budgetUsd")
            ?? SettingLimits.Number("simulatedCallSeconds", SimulatedCallSeconds, 0, 3600)
            ?? SettingLimits.Whole("judgeOutputChars", JudgeOutputChars, 1, 1_000_000)
            ?? SettingLimits.Whole("maxFailedCalls", MaxFailedCalls, 0, 1_000_000)
            ?? SettingLimits.Providers(Providers, "providers")
            ?? SettingLimits.QLearning(resolved.QLearning, "qLearning")
            ?? SettingLimits.Load(Load, "load")
            ?? SettingLimits.Reward(Reward, "reward")
            ?? SettingLimits.Resilience(Resilience, "resilience")
            ?? SettingLimits.OutputFile(Record, "record", "cassette.jsonl");
        if (limits is not null)
            throw new RoutingInputException(limits);
        if (resolved.Backend is not (Backends.Simulated or Backends.Real or Backends.Replay))
            throw new RoutingInputException($"Unknown backend '{Backend}'; the backends are simulated, real and replay.");
        if (resolved.Backend == Backends.Replay && Replay is null)
            throw new RoutingInputException("The replay backend needs a cassette (--replay <file>).");
        if (Replay is not null && Record is not null)
            throw new RoutingInputException("A run cannot both replay a cassette and record one.");
        RoutingNames.ParseProvider(JudgeProvider);
        foreach (var name in Providers.Keys)
            RoutingNames.ParseProvider(name);
        foreach (var p in RoutingNames.Providers)
        {
            if (!Providers.TryGetValue(p.Name(), out var s) || string.IsNullOrWhiteSpace(s.Model))
                throw new RoutingInputException($"Provider '{p.Name()}' needs a model in the configuration.");
            if (s.MaxOutputTokens < 1 || s.Temperature < 0)
                throw new RoutingInputException($"Provider '{p.Name()}' needs maxOutputTokens of at least 1 and a non-negative temperature.");
        }
        var q = resolved.QLearning!;
        if (q.LearningRate is <= 0 or > 1 || q.Gamma is < 0 or > 1 || q.EpsilonDecay is <= 0 or > 1 || q.EpsilonFloor is < 0 or > 1 || q.EpsilonStart is < 0 or > 1)
            throw new RoutingInputException("The Q-learning settings need learningRate in (0, 1], gamma, epsilonStart and epsilonFloor in [0, 1], and epsilonDecay in (0, 1].");
        if (Load.Window < 1 || Load.MinimumEntries < 0)
            throw new RoutingInputException("The load tracker needs a window of at least 1.");
        if (Chains is null)
            throw new RoutingInputException("'chains' cannot be null; give its settings, or leave it out for single agents.");
        if (State is not (StateKinds.Coordinator or StateKinds.Health))
            throw new RoutingInputException($"Unknown state '{State}'; the states are {StateKinds.Coordinator} (the coordinator's own) and {StateKinds.Health} (with the providers' health).");
        if (HealthBuckets is null)
            throw new RoutingInputException("'healthBuckets' cannot be null; leave it out for its defaults.");
        HealthBuckets.Validate();
        if (ArrivalsPerMinute is { } rate && !(double.IsFinite(rate) && rate > 0 && rate <= 1_000_000))
            throw new RoutingInputException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"arrivalsPerMinute must be a number above 0 and at most 1,000,000, not {rate}."));
        if (ArrivalsPerMinute is not null && resolved.Backend != Backends.Simulated)
            throw new RoutingInputException("arrivalsPerMinute paces the simulated providers' clock; the real and replay backends keep their own time, so leave it out.");
        var chains = ChainList();
        if (chains.Count < 2)
            throw new RoutingInputException($"The allowed chains must offer at least two to choose between; '{string.Join(",", chains.Select(c => c.Label))}' is one.");
        if (loadBalanced && Chains.RoutesChains)
            throw new RoutingInputException("Chains are routed by the base coordinator (state = task type); the load-balanced coordinator routes single agents, so leave out --load-balanced or the chains.");
        return resolved;
    }

    private static readonly JsonSerializerOptions FileJson = new(Tracking.Run.Json)
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Reads a settings file strictly: an unknown property is a typo, and a typo should not silently run a default.</summary>
    public static QlearnOptions FromFile(string path)
    {
        if (!File.Exists(path))
            throw new RoutingInputException(InputFile.Missing("The settings file", path));
        try
        {
            return JsonSerializer.Deserialize<QlearnOptions>(File.ReadAllText(path), FileJson)
                ?? throw new RoutingInputException($"The settings file '{path}' is empty.");
        }
        catch (JsonException e)
        {
            throw new RoutingInputException($"The settings file '{path}' is not valid qlearn settings JSON ({JsonProblem.Describe(e)}).", e);
        }
    }

    public IReadOnlyDictionary<Provider, ProviderSettings> ProviderSettings() =>
        RoutingNames.Providers.ToDictionary(p => p, p => Providers[p.Name()]);
}
