using System.Diagnostics;
using RLWorkbench.Gym.Random;
using RLWorkbench.Ppo;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Providers;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Comparison;

/// <summary>One learner on one seed: its greedy policy's expected reward at every checkpoint, and what the run spent.</summary>
public sealed record SeedRun(
    string Learner,
    long Seed,
    double[] Values,
    long CallsSpent,
    double DollarsSpent,
    double WallSeconds,
    long LearnedParameters,
    double FinalImbalance,
    int ParseFailures,
    int[]? FinalTable)
{
    /// <summary>The final greedy policy's expected agent cost per routed task (USD), for value per dollar; NaN when not measured.</summary>
    public double FinalCostUsd { get; init; } = double.NaN;

    /// <summary>The greedy per-state table at every checkpoint when the learner's greedy policy is a table (null otherwise): what a Pareto sweep values on each objective.</summary>
    public int[][]? CheckpointTables { get; init; }

    /// <summary>Tasks that failed on a 429 outlasting the retries and paid reward 0 (problem.providerState only; 0 otherwise).</summary>
    public int RateLimitedTasks { get; init; }

    /// <summary>Tasks a provider's failure ended part-way through a chain, which paid reward 0 (at most maxFailedTasks; 0 on the simulated backend).</summary>
    public int FailedTasks { get; init; }
}

/// <summary>What the comparison measured, before any statistics.</summary>
public sealed record ComparisonResult(
    ComparisonOptions Options,
    RoutingProblem Problem,
    ExactRewardModel Model,
    PolicyValuer Valuer,
    long[] Checkpoints,
    IReadOnlyList<SeedRun> Runs,
    string? StoppedEarly = null)
{
    /// <summary>Where the answers came from: simulated, replay or real.</summary>
    public string Backend { get; init; } = "simulated";

    public double OracleValue => Valuer.OracleValue;

    public double Threshold => Options.ThresholdFraction * OracleValue;
}

/// <summary>Progress lines while the comparison runs.</summary>
public interface IComparisonProgress
{
    void SeedFinished(SeedRun run, int done, int total);
}

/// <summary>
/// Runs every learner on every seed against the same problem and the same call budget. Seed k gives every learner the same
/// task stream and the same simulated draws (common random numbers), so differences between learners are their choices,
/// not their luck.
/// </summary>
public sealed class ComparisonRunner(ComparisonOptions options, RoutingProblem problem, RoutingBackendFactory backendFactory)
{
    public static RoutingProblem BuildProblem(ProblemOptions options)
    {
        var bank = options.Tasks is null ? TaskBank.Default : TaskBank.Load(options.Tasks);
        var profile = options.Profile is null ? SimulationProfile.Default : SimulationProfile.Load(options.Profile);
        var prices = options.Prices is null ? PriceTable.Default : PriceTable.Load(options.Prices);
        var providers = new Dictionary<Provider, ProviderSettings>();
        foreach (var p in RoutingNames.Providers)
        {
            if (!options.Providers.TryGetValue(p.Name(), out var settings))
                throw new ComparisonInputException($"The problem has no settings for provider '{p.Name()}'.");
            providers[p] = settings;
        }
        var actions = options.Actions?.Select(ParseAction).ToArray();
        var chains = ChainsOf(options);
        if (actions is not null && chains is not null)
            throw new ComparisonInputException("Give either problem.actions (single agent/provider steps) or problem.chains, not both.");
        return new RoutingProblem(bank, profile, prices, providers, RoutingNames.ParseProvider(options.JudgeProvider), options.Reward, options.Load, options.LoadBalanced, actions, chains,
            providerState: ProviderStateOf(options));
    }

    /// <summary>The provider-state settings with the profile's rate limits, or null when the option is off.</summary>
    private static ProviderStateOptions? ProviderStateOf(ProblemOptions options)
    {
        if (!options.ProviderState)
            return null;
        if (options.Profile is null || options.ArrivalsPerMinute is not { } perMinute)
            throw new ComparisonInputException("problem.providerState needs problem.profile with a \"rateLimits\" section and problem.arrivalsPerMinute.");
        return new ProviderStateOptions(SimulatedRateLimits.LoadProfile(options.Profile), perMinute, options.RateLimitRetries, new HealthBucketOptions());
    }

    /// <summary>The chains on offer, or null for the seed's single steps (chains off), so an old configuration builds the same problem.</summary>
    private static IReadOnlyList<RoutingChain>? ChainsOf(ProblemOptions options)
    {
        var chains = options.Chains ?? new ChainOptions();
        if (!chains.RoutesChains && chains.Allowed is not { Count: > 0 })
        {
            if (chains.MaxLength != 1)
                throw new ComparisonInputException($"problem.chains.maxLength must be 1 to {ChainOptions.MaxAllowedLength}, not {chains.MaxLength}.");
            return null;
        }
        try
        {
            return chains.Enumerate();
        }
        catch (RoutingInputException e)
        {
            throw new ComparisonInputException($"problem.chains: {e.Message}");
        }
    }

    private static RoutingAction ParseAction(string label)
    {
        var parts = label.Split('/');
        if (parts.Length != 2)
            throw new ComparisonInputException($"An action is written agent/provider, e.g. coder/anthropic; '{label}' is not.");
        return new RoutingAction(RoutingNames.ParseAgent(parts[0]), RoutingNames.ParseProvider(parts[1]));
    }

    /// <summary>Every 2 calls while that is finer than the growth factor, then geometric; always includes 0 and the budget.</summary>
    public static long[] CheckpointGrid(long budgetCalls, double growth)
    {
        var budget = budgetCalls / 2 * 2;
        var grid = new List<long> { 0 };
        long c = 2;
        while (c < budget)
        {
            grid.Add(c);
            c = Math.Max(c + 2, (long)Math.Round(c * growth / 2) * 2);
        }
        grid.Add(budget);
        return [.. grid];
    }

    public ComparisonResult Run(IComparisonProgress? progress, CancellationToken cancel)
    {
        if (options.FirstProblem() is { } problemText)
            throw new ComparisonInputException(problemText);
        var model = new ExactRewardModel(problem, options.Problem.ChainOracleSamples);
        var valuer = new PolicyValuer(model, options.EvaluationHorizon);
        var grid = CheckpointGrid(options.Budget, options.CheckpointGrowth);
        var runs = new List<SeedRun>();
        var total = options.Learners.Length * options.Seeds;
        if (options.Learners.Any(LearnerNames.IsPpo))
            ComputeDevice.ConfigureThreads(options.Ppo.Threads);
        foreach (var learner in options.Learners)
        {
            for (var k = 0; k < options.Seeds; k++)
            {
                cancel.ThrowIfCancellationRequested();
                var seed = options.FirstSeed + k;
                SeedRun run;
                try
                {
                    run = LearnerNames.IsPpo(learner)
                        ? RunPpo(learner, seed, model, valuer, grid, cancel)
                        : RunLearner(learner, seed, model, valuer, grid, cancel);
                }
                catch (BudgetExhaustedException e)
                {
                    // A seed cut short has no value at its later checkpoints, so it is left out rather than padded;
                    // the seeds before it are complete and are what the report summarises.
                    var message = $"{learner} seed {seed} {e.Message} {runs.Count} of {total} (learner, seed) runs finished and are summarised.";
                    return new ComparisonResult(options, problem, model, valuer, grid, runs, message);
                }
                runs.Add(run);
                progress?.SeedFinished(run, runs.Count, total);
            }
        }
        return new ComparisonResult(options, problem, model, valuer, grid, runs);
    }

    /// <summary>
    /// TorchSharp can free a temporary Scalar while libtorch still reads it ("Unknown scalar type", "Expected false to be
    /// true ... toFloat"): a garbage-collection race, not the data. A seed's simulated run is deterministic, so running it
    /// again gives the numbers it would have given; replayed or live calls cannot be asked again, so they are not retried.
    /// </summary>
    private SeedRun RunPpo(string learner, long seed, ExactRewardModel model, PolicyValuer valuer, long[] grid, CancellationToken cancel)
    {
        const int attempts = 3;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return RunLearner(learner, seed, model, valuer, grid, cancel);
            }
            catch (System.Runtime.InteropServices.ExternalException) when (attempt < attempts && options.ResolvedBackend == ComparisonOptions.Backends.Simulated && options.Record is null)
            {
            }
        }
    }

    /// <summary>A learner's own random stream: seeded by the run seed and the learner, so adding a learner changes no other's draws.</summary>
    internal static SeededRandomSource LearnerRandom(string learner, long seed)
    {
        long salt = 17;
        foreach (var ch in learner)
            salt = unchecked(salt * 31 + ch);
        return new SeededRandomSource(unchecked(seed * 1_000_003 + salt));
    }

    public IRoutingLearner CreateLearner(string name, long seed, ExactRewardModel model)
    {
        if (LearnerNames.IsPpo(name))
            return new PpoRoutingLearner(problem, options.Ppo.TrainerFor(name) with { Seed = checked((int)seed) }, options.Ppo.EpisodeLength, ComputeDevice.Resolve(options.Ppo.Device));
        var random = LearnerRandom(name, seed);
        // On a chain problem the seed's single-agent learners see only the single steps, as the seed's routing did.
        if (problem.RoutesChains && LearnerNames.IsSingleStep(name))
            return new SingleStepLearner(problem, singles => CreateSingleStepLearner(name, singles, random, model), name);
        if (LearnerNames.Chain.Contains(name))
            return CreateChainLearner(name, random, model);
        return CreateSingleStepLearner(name, problem, random, model);
    }

    private IRoutingLearner CreateChainLearner(string name, IRandomSource random, ExactRewardModel model)
    {
        if (problem.LoadBalanced)
            throw new ComparisonInputException($"The chain learner '{name}' routes the base problem (state = task type); leave it out of the load-balanced problem.");
        var chains = problem.Chains;
        var o = options.ChainLearners;
        CollaborationStateLearner Augmented(Func<int, IRoutingLearner> inner) => new(problem, inner, o.SignalWindow);
        return name switch
        {
            LearnerNames.Ucb1Chains => new ChainBanditLearner(problem.StateCount, chains, RoutingAlgorithms.Ucb1, options.Bandits, random),
            LearnerNames.ThompsonChains => new ChainBanditLearner(problem.StateCount, chains, RoutingAlgorithms.Thompson, options.Bandits, random),
            LearnerNames.Ucb1ChainsPairs => new ChainBanditLearner(problem.StateCount, chains, RoutingAlgorithms.Ucb1, options.Bandits, random, new PairTable(problem.StateCount), o.PairPriorPulls),
            LearnerNames.ThompsonChainsPairs => new ChainBanditLearner(problem.StateCount, chains, RoutingAlgorithms.Thompson, options.Bandits, random, new PairTable(problem.StateCount), o.PairPriorPulls),
            LearnerNames.Ucb1ChainsState => Augmented(states => new ChainBanditLearner(states, chains, RoutingAlgorithms.Ucb1, options.Bandits, random)),
            LearnerNames.ThompsonChainsState => Augmented(states => new ChainBanditLearner(states, chains, RoutingAlgorithms.Thompson, options.Bandits, random)),
            LearnerNames.ComposedChains => new ComposedChainLearner(problem.StateCount, chains, o.ComposedPriorSd, o.ComposedNoise, o.ComposedExploration),
            LearnerNames.ComposedChainsPairs => new ComposedChainLearner(problem.StateCount, chains, o.ComposedPriorSd, o.ComposedNoise, o.ComposedExploration, withPairs: true),
            LearnerNames.ComposedChainsState => Augmented(states => new ComposedChainLearner(states, chains, o.ComposedPriorSd, o.ComposedNoise, o.ComposedExploration)),
            LearnerNames.QLearningChains => SeedQLearner.Create(problem, options.QLearning, random),
            LearnerNames.QLearningChainsState => QLearningWithSignal(random),
            LearnerNames.LongestChain => new FixedChainRouter(problem, o.LongestChain),
            LearnerNames.BestSingle => new BestSingleRouter(problem, model),
            LearnerNames.RandomChain => new RandomRouter(problem, random),
            _ => throw new ComparisonInputException($"Unknown learner '{name}'; the learners are {string.Join(", ", LearnerNames.All)}."),
        };
    }

    /// <summary>
    /// The seed's Q-learning over (type, collaboration signal): it bootstraps, as the seed does, from a uniformly random next
    /// type, under the signal this task leaves behind (which the next task is routed under).
    /// </summary>
    private CollaborationStateLearner QLearningWithSignal(IRandomSource random)
    {
        CollaborationStateLearner? learner = null;
        learner = new CollaborationStateLearner(problem, states => new TabularQLearner(states, problem.ActionCount, options.QLearning ?? new QLearningOptions(), random)
        {
            NextState = (_, _) => learner!.AugmentedState(random.Choice(RoutingProblem.TypeCount), learner.Signal),
        }, options.ChainLearners.SignalWindow);
        return learner;
    }

    private IRoutingLearner CreateSingleStepLearner(string name, RoutingProblem offered, IRandomSource random, ExactRewardModel model)
    {
        return name switch
        {
            LearnerNames.QLearning => SeedQLearner.Create(offered, options.QLearning, random),
            LearnerNames.Ucb1 => BanditLearner.Ucb1(offered, options.Bandits.UcbExploration),
            LearnerNames.Thompson => BanditLearner.Thompson(offered, options.Bandits.ThompsonNoise, random),
            LearnerNames.Random => new RandomRouter(offered, random),
            LearnerNames.RoundRobin => new RoundRobinRouter(offered),
            LearnerNames.LeastRecentlyUsed => new LeastRecentlyUsedRouter(offered),
            LearnerNames.Oracle => new OracleRouter(offered, model),
            _ => throw new ComparisonInputException($"Unknown learner '{name}'; the learners are {string.Join(", ", LearnerNames.All)}."),
        };
    }

    /// <summary>One learner on one seed's task stream: route, learn, and value the greedy policy whenever the calls pass a checkpoint.</summary>
    private SeedRun RunLearner(string name, long seed, ExactRewardModel model, PolicyValuer valuer, long[] grid, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var learner = CreateLearner(name, seed, model);
        using var disposeLearner = learner as IDisposable;
        using var env = new RoutingEnvironment(problem, backendFactory, seed, new RoutingEnvironmentOptions { MaxFailedTasks = options.MaxFailedTasks });
        var observation = new float[problem.ObservationSize];
        env.Reset(checked((int)seed), observation);
        var values = new double[grid.Length];
        var tables = new int[grid.Length][];
        void Record(int checkpoint)
        {
            var policy = learner.GreedyPolicy();
            values[checkpoint] = valuer.Value(policy);
            tables[checkpoint] = (policy as TablePolicy)?.ActionPerState.ToArray()!;
        }
        Record(0);
        var next = 1;
        while (next < grid.Length)
        {
            cancel.ThrowIfCancellationRequested();
            env.WriteObservation(observation);
            var context = new RoutingContext(env.CurrentTask, env.CurrentTypeIndex, env.CurrentLoadStateIndex, env.CurrentState, env.LoadTracker, observation);
            var action = learner.Choose(context);
            var outcome = env.Route(action);
            learner.Learn(context, outcome);
            while (next < grid.Length && env.LlmCalls >= grid[next])
                Record(next++);
        }
        var greedy = learner.GreedyPolicy();
        return new SeedRun(name, seed, values, env.LlmCalls, env.DollarsSpent, clock.Elapsed.TotalSeconds, learner.LearnedParameters,
            env.LoadTracker.Imbalance, env.ParseFailures, (greedy as TablePolicy)?.ActionPerState)
        {
            FinalCostUsd = valuer.ExpectedCostUsd(greedy),
            CheckpointTables = tables.All(t => t is not null) ? tables : null,
            RateLimitedTasks = env.RateLimitedTasks,
            FailedTasks = env.FailedTasks,
        };
    }
}
