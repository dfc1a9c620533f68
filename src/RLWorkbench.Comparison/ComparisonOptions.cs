using System.Text.Json.Serialization;
using RLWorkbench.Ppo;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Comparison;

/// <summary>The learners `compare` knows, by the names used in configurations, on the command line and in reports.</summary>
public static class LearnerNames
{
    public const string QLearning = "qlearn";
    public const string PpoSeed = "ppo-seed";
    public const string PpoSmall = "ppo-small";
    public const string PpoSeedSettings = "ppo-seed-settings";
    public const string Ucb1 = "ucb1";
    public const string Thompson = "thompson";
    public const string Random = "random";
    public const string RoundRobin = "round-robin";
    public const string LeastRecentlyUsed = "lru";
    public const string Oracle = "oracle";
    public const string Ucb1Chains = "ucb1-chains";
    public const string Ucb1ChainsState = "ucb1-chains-state";
    public const string Ucb1ChainsPairs = "ucb1-chains-pairs";
    public const string ThompsonChains = "thompson-chains";
    public const string ThompsonChainsState = "thompson-chains-state";
    public const string ThompsonChainsPairs = "thompson-chains-pairs";
    public const string QLearningChains = "qlearn-chains";
    public const string QLearningChainsState = "qlearn-chains-state";
    public const string ComposedChains = "composed-chains";
    public const string ComposedChainsState = "composed-chains-state";
    public const string ComposedChainsPairs = "composed-chains-pairs";
    public const string LongestChain = "longest-chain";
    public const string BestSingle = "best-single";
    public const string RandomChain = "random-chain";

    /// <summary>Learns the reward vector once for every weight vector of a Pareto sweep; runs only there (docs/pareto.md).</summary>
    public const string Ucb1Vector = "ucb1-vector";

    /// <summary>What `compare` runs when no learner is named: the single-step learners (the chain learners are named in compare-chains*.json).</summary>
    public static IReadOnlyList<string> Default { get; } = [QLearning, PpoSeed, PpoSmall, PpoSeedSettings, Ucb1, Thompson, Random, RoundRobin, LeastRecentlyUsed, Oracle];

    public static IReadOnlyList<string> Chain { get; } =
    [
        Ucb1Chains, Ucb1ChainsState, Ucb1ChainsPairs, ThompsonChains, ThompsonChainsState, ThompsonChainsPairs, QLearningChains, QLearningChainsState,
        ComposedChains, ComposedChainsState, ComposedChainsPairs, LongestChain, BestSingle, RandomChain,
    ];

    public static IReadOnlyList<string> All { get; } = [.. Default, .. Chain];

    public static bool IsPpo(string name) => name is PpoSeed or PpoSmall or PpoSeedSettings;

    /// <summary>The learners that see only single (agent, provider) steps when the problem routes chains.</summary>
    public static bool IsSingleStep(string name) => name is QLearning or Ucb1 or Thompson or LeastRecentlyUsed;

    public static string Describe(string name) => name switch
    {
        QLearning => "Q-learning (seed settings)",
        PpoSeed => "PPO (seed network)",
        PpoSmall => "PPO (small network)",
        PpoSeedSettings => "PPO (seed network and settings)",
        Ucb1 => "UCB1",
        Thompson => "Thompson sampling",
        Random => "uniform random",
        RoundRobin => "round-robin",
        LeastRecentlyUsed => "least recently used agent",
        Oracle => "oracle",
        Ucb1Chains => "UCB1 over chains",
        Ucb1ChainsState => "UCB1 over chains, collaboration state",
        Ucb1ChainsPairs => "UCB1 over chains, pair table",
        ThompsonChains => "Thompson sampling over chains",
        ThompsonChainsState => "Thompson sampling over chains, collaboration state",
        ThompsonChainsPairs => "Thompson sampling over chains, pair table",
        QLearningChains => "Q-learning over chains (seed settings)",
        QLearningChainsState => "Q-learning over chains, collaboration state",
        ComposedChains => "composed per-step values (optimism)",
        ComposedChainsState => "composed per-step values, collaboration state",
        ComposedChainsPairs => "composed per-step values with pair components",
        LongestChain => "always the longest chain",
        BestSingle => "best single agent per type (oracle)",
        RandomChain => "uniform random chain",
        Ucb1Vector => "UCB1 on the reward vector (one run for all weights)",
        _ => name,
    };
}

/// <summary>The routing problem both approaches face. Defaults are the qlearn command's (the seed's).</summary>
public sealed record ProblemOptions
{
    /// <summary>"base" (state = task type) or "load-balanced" (state = task type x load state, rewards less the load penalty).</summary>
    public string Kind { get; init; } = TaskTypeCoordinator.Name;

    /// <summary>Simulation profile file; null is the embedded default.</summary>
    public string? Profile { get; init; }

    public string? Tasks { get; init; }

    public string? Prices { get; init; }

    public Dictionary<string, ProviderSettings> Providers { get; init; } = QlearnOptions.DefaultProviders();

    public string JudgeProvider { get; init; } = "openai";

    /// <summary>The (agent/provider) actions on offer, e.g. "coder/anthropic"; null offers all eight.</summary>
    public string[]? Actions { get; init; }

    public RewardOptions Reward { get; init; } = new();

    public LoadTrackerOptions Load { get; init; } = new();

    /// <summary>
    /// The chains on offer: maxLength 1 (the default) is the seed's single (agent, provider) actions; 2 or 3 offers every chain
    /// of distinct agents up to that length (56 or 248), or "allowed" lists them ("researcher/openai>validator/openai").
    /// Runs saved before chains existed have no such section and read as the default.
    /// </summary>
    public ChainOptions Chains { get; init; } = new();

    /// <summary>
    /// Draws per (task, chain) of the chain oracle's sampled cost-and-latency term (single steps are exact): more draws, a
    /// smaller standard error, which the report prints with the oracle's value.
    /// </summary>
    public int ChainOracleSamples { get; init; } = ExactRewardModel.DefaultChainSamples;

    /// <summary>
    /// Provider load and latency in the state, continuous (docs/providers.md): the simulated backend enforces the profile's
    /// "rateLimits" on a virtual clock tasks arrive on at <see cref="ArrivalsPerMinute"/>, and the observation appends each
    /// provider's health features. False (the default) is the problem without them, bit for bit.
    /// </summary>
    public bool ProviderState { get; init; }

    /// <summary>Tasks arriving per minute on the simulated providers' clock (a Poisson process); needed with <see cref="ProviderState"/>.</summary>
    public double? ArrivalsPerMinute { get; init; }

    /// <summary>Retries of a 429 (each waits its Retry-After on the virtual clock) before the task fails with reward 0.</summary>
    public int RateLimitRetries { get; init; } = new ResilienceOptions().MaxRetries;

    /// <summary>Returns the first problem with the provider-state settings as one sentence, or null.</summary>
    public string? ProviderStateProblem(string backend, bool records, bool weighted)
    {
        if (!ProviderState)
            return ArrivalsPerMinute is null ? null : "problem.arrivalsPerMinute paces the simulated providers' clock for problem.providerState; set providerState to true or leave arrivalsPerMinute out.";
        if (backend != ComparisonOptions.Backends.Simulated || records)
            return "problem.providerState runs on the simulated backend (without --record): its rate limits and clock are the simulation's.";
        if (weighted)
            return "problem.providerState is not part of a Pareto sweep (weights); leave one of them out.";
        if (ArrivalsPerMinute is not { } rate)
            return "problem.providerState needs problem.arrivalsPerMinute, the tasks arriving per minute on the simulated providers' clock, for example 60.";
        if (!(double.IsFinite(rate) && rate > 0 && rate <= 1_000_000))
            return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"problem.arrivalsPerMinute must be a number above 0 and at most 1,000,000, not {rate}.");
        if (RateLimitRetries is < 0 or > 20)
            return $"problem.rateLimitRetries must be a whole number from 0 to 20, not {RateLimitRetries}.";
        if (Profile is null)
            return "problem.providerState needs a simulation profile with a \"rateLimits\" section, for example experiments/profiles/rate-limited.json; the embedded default has none.";
        return null;
    }

    [JsonIgnore]
    public bool LoadBalanced => Kind == LoadBalancedCoordinator.Name;
}

/// <summary>
/// PPO as the comparison runs it: the workbench trainer with a categorical policy, its hyper-parameters scaled from the
/// seed's 8192-step rollouts down to a call budget of thousands (docs/compare.md explains each change).
/// </summary>
public sealed record PpoComparisonOptions
{
    public PpoOptions Trainer { get; init; } = new()
    {
        NumEnvs = 4,
        StepsPerEnv = 16,
        MinibatchSize = 16,
        Epochs = 10,
        LearningRate = 3e-4,
        Gamma = 0.95,
        GaeLambda = 0.95,
    };

    /// <summary>
    /// The seed's own Phase 1 settings (4 x 2048 rollout, minibatch 64, gamma 0.99), unscaled, for the
    /// <c>ppo-seed-settings</c> learner: the row that shows what the rescaling in <see cref="Trainer"/> buys.
    /// </summary>
    public PpoOptions SeedTrainer { get; init; } = new();

    public int[] SeedNetwork { get; init; } = [256, 256, 128];

    public int[] SmallNetwork { get; init; } = [32];

    /// <summary>Truncation length of the routing episodes PPO sees (the trainer bootstraps through it).</summary>
    public int EpisodeLength { get; init; } = 64;

    public string Device { get; init; } = "cpu";

    /// <summary>libtorch threads; 1 keeps PPO from competing with itself on a small machine.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>The trainer settings and network a PPO learner runs with.</summary>
    public PpoOptions TrainerFor(string learner) => learner switch
    {
        LearnerNames.PpoSeed => Trainer with { HiddenSizes = SeedNetwork },
        LearnerNames.PpoSmall => Trainer with { HiddenSizes = SmallNetwork },
        LearnerNames.PpoSeedSettings => SeedTrainer with { HiddenSizes = SeedNetwork },
        _ => throw new ArgumentException($"'{learner}' is not a PPO learner.", nameof(learner)),
    };
}

/// <summary>Everything `compare` needs, bound from experiments/compare*.json and the command line, saved with the run.</summary>
public sealed record ComparisonOptions
{
    public ProblemOptions Problem { get; init; } = new();

    public string[] Learners { get; init; } = [.. LearnerNames.Default];

    public int Seeds { get; init; } = 10;

    public long FirstSeed { get; init; } = 1;

    /// <summary>
    /// Simulated calls are free, so the default is large enough that every learner on the base problem either settles
    /// at the threshold or has clearly stopped changing: the seed's Q-learning settles after about 28,000 to 72,000 calls
    /// (docs/compare.md).
    /// </summary>
    public const int DefaultSimulatedBudgetCalls = 100_000;

    /// <summary>
    /// LLM calls each learner may spend per seed (per routed task one per agent step and one for the judge: two for a single agent). Null is
    /// <see cref="DefaultSimulatedBudgetCalls"/> on the simulated and replay backends; live calls cost money, so the real
    /// backend needs it set.
    /// </summary>
    public int? BudgetCalls { get; init; }

    [JsonIgnore]
    public int Budget => BudgetCalls ?? DefaultSimulatedBudgetCalls;

    /// <summary>A learner has "reached" the oracle when its greedy policy's expected reward is at least this share of the oracle's.</summary>
    public double ThresholdFraction { get; init; } = 0.95;

    /// <summary>Checkpoints every 2 calls until that step is smaller than this growth factor, then geometrically.</summary>
    public double CheckpointGrowth { get; init; } = 1.05;

    /// <summary>Tasks over which a load-balanced policy's expected reward is averaged (after the load window fills).</summary>
    public int EvaluationHorizon { get; init; } = 32;

    public QLearningOptions? QLearning { get; init; }

    public BanditOptions Bandits { get; init; } = new();

    public PpoComparisonOptions Ppo { get; init; } = new();

    public ChainLearnerOptions ChainLearners { get; init; } = new();

    /// <summary>
    /// A Pareto sweep (docs/pareto.md): each weight vector ("quality=1,cost=40" or {"quality": 1, "cost": 40}) scalarises the
    /// reward vector, every learner learns each one, and the learned greedy policies are valued on quality, cost per task and
    /// p95 latency against the exact front. Null is the ordinary comparison on the seed's reward.
    /// </summary>
    public RewardWeights[]? Weights { get; init; }

    /// <summary>The learners whose greedy policy is a per-state table, which a Pareto sweep values on each objective; the fixed rules are its baselines.</summary>
    public static IReadOnlyList<string> ParetoLearners { get; } = [LearnerNames.Ucb1Vector, LearnerNames.QLearning, LearnerNames.Ucb1, LearnerNames.Thompson, LearnerNames.PpoSeed, LearnerNames.PpoSmall, LearnerNames.PpoSeedSettings];

    /// <summary>Where the answers come from: "simulated" (the default), "replay" (set by <see cref="Replay"/>) or "real" (live calls, needs <see cref="BudgetUsd"/>).</summary>
    public string Backend { get; init; } = Backends.Simulated;

    /// <summary>A cassette to answer every call from (compare --replay); setting it chooses the replay backend.</summary>
    public string? Replay { get; init; }

    /// <summary>A cassette to append every exchange to (compare --record).</summary>
    public string? Record { get; init; }

    /// <summary>Hard cap in USD on a live comparison's spend (compare --budget-usd).</summary>
    public double? BudgetUsd { get; init; }

    /// <summary>
    /// Tasks per (learner, seed) run that a provider's failure may fail part-way through a chain (the calls already made
    /// billed, reward 0) before the run ends as failed, like qlearn's maxFailedCalls.
    /// </summary>
    public int MaxFailedTasks { get; init; } = RoutingEnvironmentOptions.DefaultMaxFailedTasks;

    public static class Backends
    {
        public const string Simulated = "simulated";
        public const string Replay = "replay";
        public const string Real = "real";
    }

    /// <summary>The backend these settings choose: a replay cassette means replay.</summary>
    [JsonIgnore]
    public string ResolvedBackend => Replay is not null && Backend == Backends.Simulated ? Backends.Replay : Backend;

    /// <summary>Returns the first problem with these options as one sentence, or null.</summary>
    public string? FirstProblem()
    {
        if (Backend is not (Backends.Simulated or Backends.Replay or Backends.Real))
            return $"Unknown backend '{Backend}'; the backends are simulated, replay and real.";
        if (ResolvedBackend == Backends.Real && Replay is not null)
            return "The real backend and a replay cassette cannot be combined: a replay makes no calls.";
        if (ResolvedBackend == Backends.Replay && Replay is null)
            return "The replay backend needs a cassette (replay, or --replay <file>).";
        if (ResolvedBackend == Backends.Real && BudgetUsd is null)
            return "A live comparison needs a hard spending cap: set budgetUsd (--budget-usd <dollars>).";
        if (ResolvedBackend == Backends.Real && BudgetCalls is null)
            return $"A live comparison needs an explicit call budget (live calls cost money; the simulated default is {DefaultSimulatedBudgetCalls:N0} per learner and seed): set budgetCalls (--budget <calls>).";
        if (ResolvedBackend != Backends.Real && BudgetUsd is not null)
            return "budgetUsd caps what live calls spend; it needs the real backend (--real).";
        if (SettingLimits.Budget(BudgetUsd, "budgetUsd") is { } budgetUsd)
            return budgetUsd;
        if (Replay is not null && Record is not null)
            return "A comparison cannot both replay a cassette and record one.";
        if (Problem is null || Learners is null || Bandits is null || Ppo?.Trainer is null || Ppo.SeedTrainer is null || Ppo.SeedNetwork is null || Ppo.SmallNetwork is null)
            return "problem, learners, bandits, ppo, ppo.trainer, ppo.seedTrainer, ppo.seedNetwork and ppo.smallNetwork cannot be null; leave a section out for its defaults.";
        if (Problem.Kind is not (TaskTypeCoordinator.Name or LoadBalancedCoordinator.Name))
            return $"Unknown problem '{Problem.Kind}'; the problems are {TaskTypeCoordinator.Name} and {LoadBalancedCoordinator.Name}.";
        if (Learners.Length == 0)
            return $"Name at least one learner; the learners are {string.Join(", ", LearnerNames.All)}.";
        foreach (var name in Learners)
        {
            if (name == LearnerNames.Ucb1Vector && Weights is null)
                return $"The learner '{name}' learns the reward vector for a Pareto sweep; give weights (docs/pareto.md) or leave it out.";
            if (!LearnerNames.All.Contains(name) && name != LearnerNames.Ucb1Vector)
                return $"Unknown learner '{name}'; the learners are {string.Join(", ", LearnerNames.All)}, and {LearnerNames.Ucb1Vector} with weights.";
        }
        if (Learners.Distinct().Count() != Learners.Length)
            return "A learner is listed twice.";
        if (Weights is not null)
        {
            if (Weights.Length == 0)
                return $"weights lists no weight vector; give at least one, for example [\"{RewardWeights.Example}\"], or leave it out for the seed's reward.";
            if (Weights.Any(w => w is null))
                return "weights holds a null entry; every entry is a weight vector such as \"quality=1,cost=40\".";
            if (Weights.Distinct().Count() != Weights.Length)
                return "weights lists the same weight vector twice.";
            if (Learners.FirstOrDefault(l => !ParetoLearners.Contains(l)) is { } fixedRule)
                return $"The learner '{fixedRule}' has no greedy table to place on a Pareto front; with weights the learners are {string.Join(", ", ParetoLearners)} (the fixed rules are drawn as baselines).";
            if (Problem.Kind != TaskTypeCoordinator.Name || Problem.Chains is { RoutesChains: true })
                return "Weighted objectives (weights) are compared on the base problem with single (agent, provider) actions; leave out problem.chains and the load-balanced kind.";
            if (ResolvedBackend != Backends.Simulated)
                return "A Pareto sweep (weights) runs on the simulated backend: its exact front is the simulation's.";
        }
        if (Seeds < 1 || Seeds > 1000)
            return $"Seeds must be between 1 and 1000, got {Seeds}.";
        // Each seed also seeds the environment and PPO, which take 32-bit seeds.
        if (FirstSeed < int.MinValue || FirstSeed + Seeds - 1 > int.MaxValue)
            return $"firstSeed {FirstSeed} with {Seeds} seeds would use seeds up to {FirstSeed + Seeds - 1}; firstSeed must be at least {int.MinValue:N0} and firstSeed + seeds - 1 at most {int.MaxValue:N0}.";
        if (SettingLimits.Whole("budgetCalls", Budget, 1, 100_000_000) is { } budgetCalls)
            return budgetCalls;
        if (SettingLimits.Whole("maxFailedTasks", MaxFailedTasks, 0, 1_000_000) is { } maxFailedTasks)
            return maxFailedTasks;
        var sections = SettingLimits.Providers(Problem.Providers, "problem.providers")
            ?? SettingLimits.Reward(Problem.Reward, "problem.reward")
            ?? SettingLimits.Load(Problem.Load, "problem.load")
            ?? SettingLimits.QLearning(QLearning, "qLearning");
        if ((sections ?? SettingLimits.OutputFile(Record, "record", "cassette.jsonl")) is { } sectionOrFile)
            return sectionOrFile;
        if (Problem.Chains is null)
            return "problem.chains cannot be null; leave it out for single (agent, provider) actions.";
        if (Problem.ProviderStateProblem(ResolvedBackend, Record is not null, Weights is not null) is { } providerState)
            return providerState;
        if (SettingLimits.Whole("problem.chainOracleSamples", Problem.ChainOracleSamples, 2, 10_000_000) is { } samples)
            return samples;
        if (!(ThresholdFraction > 0 && ThresholdFraction <= 1))
            return $"The threshold fraction must be in (0, 1], got {ThresholdFraction}.";
        if (!(CheckpointGrowth > 1 && CheckpointGrowth <= 10))
            return $"The checkpoint growth factor must be above 1 and at most 10, got {CheckpointGrowth}.";
        if (EvaluationHorizon is < 1 or > 10_000)
            return $"The evaluation horizon must be between 1 and 10,000 tasks, got {EvaluationHorizon}.";
        const int minimum = 20;
        if (Budget < minimum)
            return $"A budget of {Budget} LLM calls is too small to evaluate anything; give at least {minimum} (10 routed tasks).";
        if (Learners.Any(LearnerNames.IsPpo))
        {
            var trainer = Ppo.Trainer;
            if ((trainer with { HiddenSizes = Ppo.SeedNetwork }).Problem() is { } p1)
                return $"PPO settings: {p1}";
            if ((trainer with { HiddenSizes = Ppo.SmallNetwork }).Problem() is { } p2)
                return $"PPO settings (small network): {p2}";
            var rolloutCalls = 2L * trainer.RolloutSize;
            if (Budget < 2 * rolloutCalls)
                return $"A budget of {Budget} LLM calls is too small to evaluate PPO: one rollout of {trainer.NumEnvs} x {trainer.StepsPerEnv} tasks costs {rolloutCalls} calls and PPO needs at least two updates, so give at least {2 * rolloutCalls} calls or leave PPO out.";
            if ((SettingLimits.Whole("ppo.episodeLength", Ppo.EpisodeLength, 1, 100_000) ?? SettingLimits.Whole("ppo.threads", Ppo.Threads, 1, 256)) is { } ppoLimits)
                return ppoLimits;
        }
        if (Bandits.Problem() is { } bandits)
            return bandits;
        if (ChainLearners is null)
            return "chainLearners cannot be null; leave the section out for its defaults.";
        if (ChainLearners.Problem() is { } chainLearners)
            return chainLearners;
        if (Learners.Contains(LearnerNames.PpoSeedSettings))
        {
            if ((Ppo.SeedTrainer with { HiddenSizes = Ppo.SeedNetwork }).Problem() is { } seedSettings)
                return $"PPO seed settings (ppo.seedTrainer): {seedSettings}";
            var seedRolloutCalls = 2L * Ppo.SeedTrainer.RolloutSize;
            if (Budget < 2 * seedRolloutCalls)
                return $"A budget of {Budget} LLM calls is too small to evaluate {LearnerNames.PpoSeedSettings}: one rollout of {Ppo.SeedTrainer.NumEnvs} x {Ppo.SeedTrainer.StepsPerEnv} tasks costs {seedRolloutCalls} calls and PPO needs at least two updates, so give at least {2 * seedRolloutCalls} calls or leave {LearnerNames.PpoSeedSettings} out.";
        }
        return null;
    }
}
