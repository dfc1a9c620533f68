using RLWorkbench.Gym;
using RLWorkbench.Gym.Random;
using RLWorkbench.Gym.Spaces;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Providers;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Comparison;

/// <summary>The environment's settings that are not part of the problem itself.</summary>
public sealed record RoutingEnvironmentOptions
{
    /// <summary>
    /// Routing is a continuing problem; episodes exist only so that a trainer which needs them (PPO) gets truncations to
    /// bootstrap from. The task stream, the load window and the call count carry on across an unseeded reset.
    /// </summary>
    public int EpisodeLength { get; init; } = 64;

    /// <summary>
    /// Tasks a provider's failure may fail part-way through a chain before the run gives up, as qlearn's maxFailedCalls: each
    /// is a failed task the run survives; one more and the failure ends the run.
    /// </summary>
    public int MaxFailedTasks { get; init; } = DefaultMaxFailedTasks;

    public const int DefaultMaxFailedTasks = 5;
}

/// <summary>
/// The Phase 2 routing problem as a Gymnasium environment: the observation is the next task's type one-hot (plus the load
/// state one-hot when load-balanced, and each provider's health features under provider state), the action one of the problem's (agent, provider) pairs or chains, and one step routes
/// that task: one agent call per step of the chain, one judge call, reward = the composite reward (less the load penalty when
/// load-balanced). Every call goes
/// through the backend, so the environment counts LLM calls and dollars exactly as the qlearn workflow does.
/// </summary>
public sealed class RoutingEnvironment : IEnv
{
    private readonly RoutingProblem problem;
    private readonly RoutingBackendFactory backendFactory;
    private readonly RoutingEnvironmentOptions options;
    private readonly CompositeReward reward;
    private readonly SeededRandomSource taskRandom;
    private IRoutingBackend backend;
    private RoutedTaskExecutor executor;
    private LoadTracker load;
    private TaskArrivals? arrivals;
    private RoutingTask current;
    private int episodeStep;
    private int iteration;

    public RoutingEnvironment(RoutingProblem problem, RoutingBackendFactory backendFactory, long seed, RoutingEnvironmentOptions? options = null)
    {
        this.problem = problem;
        this.backendFactory = backendFactory;
        this.options = options ?? new RoutingEnvironmentOptions();
        if (this.options.EpisodeLength < 1)
            throw new ComparisonInputException($"The routing environment's episode length must be at least 1, not {this.options.EpisodeLength}.");
        if (this.options.MaxFailedTasks < 0)
            throw new ComparisonInputException($"The routing environment's maxFailedTasks must be at least 0, not {this.options.MaxFailedTasks}.");
        reward = new CompositeReward(problem.Reward);
        ObservationSpace = new Box(0f, 1f, problem.ObservationSize);
        ActionSpace = new Discrete(problem.ActionCount);
        Info = new EnvInfo("raw_reward", "penalty", "adjusted_reward", "cost_usd", "judge_cost_usd", "parse_failure", "imbalance", "llm_calls", "chain_length");
        taskRandom = new SeededRandomSource(seed);
        backend = backendFactory(problem, seed);
        executor = ExecutorFor(problem, backend, reward);
        load = new LoadTracker(problem.Load);
        arrivals = ArrivalsFor(problem, backend, seed);
        current = problem.Bank[taskRandom.Choice(problem.Bank.Count)];
        arrivals?.Next(0);
    }

    public Space ObservationSpace { get; }

    public Space ActionSpace { get; }

    public EnvInfo Info { get; }

    public RoutingProblem Problem => problem;

    /// <summary>The task the next step routes.</summary>
    public RoutingTask CurrentTask => current;

    public int CurrentTypeIndex => (int)current.Type;

    public int CurrentLoadStateIndex => LoadStates.IndexOf(load.LoadState);

    public int CurrentState => problem.StateIndex(CurrentTypeIndex, problem.LoadBalanced ? CurrentLoadStateIndex : 0);

    public LoadTracker LoadTracker => load;

    public long LlmCalls { get; private set; }

    public double DollarsSpent { get; private set; }

    /// <summary>Judge answers that could not be read and scored 0.5 (the seed hid these).</summary>
    public int ParseFailures { get; private set; }

    /// <summary>Tasks that failed on a 429 outlasting the retries (provider state only): each paid reward 0.</summary>
    public int RateLimitedTasks { get; private set; }

    /// <summary>
    /// Tasks a provider's failure (not a provider-state 429, which <see cref="RateLimitedTasks"/> counts) interrupted part-way
    /// through a chain: each paid reward 0, its answered calls billed.
    /// </summary>
    public int FailedTasks { get; private set; }

    public RoutedTask? LastStep { get; private set; }

    /// <summary>The last routed task's objectives kept apart (quality, agent cost, agent latency, load penalty), for learners that learn them separately.</summary>
    public RewardVector? LastVector { get; private set; }

    public void Reset(int? seed, Span<float> observation)
    {
        if (seed is { } s)
        {
            // A seeded reset starts the whole stream again: tasks, the backend's draws, the load window and the counters.
            taskRandom.Seed(s);
            backend.Dispose();
            backend = backendFactory(problem, s);
            executor = ExecutorFor(problem, backend, reward);
            load = new LoadTracker(problem.Load);
            arrivals = ArrivalsFor(problem, backend, s);
            iteration = 0;
            LlmCalls = 0;
            DollarsSpent = 0;
            ParseFailures = 0;
            RateLimitedTasks = 0;
            FailedTasks = 0;
            current = problem.Bank[taskRandom.Choice(problem.Bank.Count)];
            arrivals?.Next(0);
        }
        episodeStep = 0;
        WriteObservation(observation);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (action.Length != 1 || !ActionSpace.Contains(action))
            throw new ArgumentException($"The routing environment takes one action index in 0..{problem.ActionCount - 1}, got [{string.Join(", ", action.ToArray())}].", nameof(action));
        var step = Route((int)action[0]);
        episodeStep++;
        WriteObservation(observation);
        return new StepResult(step.AdjustedReward, Terminated: false, Truncated: episodeStep >= options.EpisodeLength);
    }

    /// <summary>
    /// The observation of the task the next step routes: the problem's one-hots and, with provider state, each provider's
    /// health features as its answers so far report them at the task's arrival.
    /// </summary>
    public void WriteObservation(Span<float> observation)
    {
        problem.WriteObservation(CurrentState, observation);
        if (problem.ProviderState is { } state && backend.Health is { } health)
        {
            var snapshots = health.Snapshot();
            for (var p = 0; p < snapshots.Count; p++)
                ProviderHealthFeatures.Write(snapshots[p], state.Buckets, observation.Slice(problem.HealthFeaturesOffset + p * ProviderHealthFeatures.PerProvider, ProviderHealthFeatures.PerProvider));
        }
    }

    /// <summary>Routes the current task with the given action (a chain's every step) and draws the next task; the learners that do not need Gym's buffers call this directly.</summary>
    public RoutedTask Route(int actionIndex)
    {
        var task = current;
        var chain = problem.Chains[actionIndex];
        RoutedChainResult result;
        // Under provider state the answered calls are kept, so a task a 429 fails part-way is billed for what was sent.
        var answered = problem.ProviderState is null ? null : new List<CallRecord>();
        ProviderCall? call = answered is null ? null : async (provider, messages, context, cancellationToken) =>
        {
            var answer = await executor.SendAsync(provider, messages, context, cancellationToken);
            answered.Add(answer.Record);
            return answer;
        };
        try
        {
            // The qlearn workflow's routed task, made synchronously: Gym's Step is synchronous and the simulated backend completes at once.
            result = executor.ExecuteChainAsync(iteration, task, chain, call, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception e) when (answered is not null && IsRateLimited(e))
        {
            // A 429 on provider state is part of the problem being learned, so it is counted apart and not bounded.
            RateLimitedTasks++;
            return FailedPartWay(task, actionIndex, chain, answered.Count + 1, answered.Sum(c => c.CostUsd));
        }
        catch (ChainInterruptedException e) when (e.InnerException is ProviderCallException failure)
        {
            // The calls a chain made before it failed were sent and billed: they count whether the run survives the failure or not.
            // A failed call the provider answered unusably is already among them; one that got no answer counts as one more call.
            var calls = e.Completed.Count + (failure.Call is null ? 1 : 0);
            if (FailedTasks >= options.MaxFailedTasks)
            {
                LlmCalls += calls;
                DollarsSpent += e.CompletedCostUsd;
                throw new ProviderCallException(failure.Provider, failure.Failure,
                    $"{FailedTasks + 1} tasks failed part-way through a chain, more than the {options.MaxFailedTasks} allowed (maxFailedTasks); the last: {e.Message}", failure);
            }
            FailedTasks++;
            return FailedPartWay(task, actionIndex, chain, calls, e.CompletedCostUsd);
        }
        catch (ChainInterruptedException e)
        {
            // Not a provider's failure (the budget, a cassette that ran out, a failed write): the calls made count, then it goes on as a single step's would.
            LlmCalls += e.Completed.Count;
            DollarsSpent += e.CompletedCostUsd;
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException!).Throw();
            throw;
        }
        var verdict = result.Verdict;
        // With weights the reward is the vector's scalarisation (the problem allows them only without a load penalty); without, the seed's composite reward.
        var raw = problem.Weights is { } weights
            ? weights.Scalarise(new RewardVector(verdict.Quality, result.AgentCostUsd, result.AgentLatencySeconds, 0.0))
            : result.RawReward;
        // The load-balanced problem reads the penalty before recording the assignment, as the seed's coordinator does.
        var penalty = problem.LoadBalanced ? load.Penalty(chain.First.Agent) : 0.0;
        foreach (var step in chain.Steps)
            load.Record(step.Agent);
        var adjusted = problem.Weights is null ? Math.Max(0.0, raw - penalty) : raw;
        var agentCost = result.AgentCostUsd;
        var judgeCost = result.Judge.CostUsd;
        LlmCalls += chain.Length + 1;
        DollarsSpent += agentCost + judgeCost;
        if (verdict.ParseFailure)
            ParseFailures++;
        iteration++;
        current = problem.Bank[taskRandom.Choice(problem.Bank.Count)];
        arrivals?.Next(iteration);

        Info["raw_reward"] = raw;
        Info["penalty"] = penalty;
        Info["adjusted_reward"] = adjusted;
        Info["cost_usd"] = agentCost;
        Info["judge_cost_usd"] = judgeCost;
        Info["parse_failure"] = verdict.ParseFailure ? 1 : 0;
        Info["imbalance"] = load.Imbalance;
        Info["llm_calls"] = LlmCalls;
        Info["chain_length"] = chain.Length;
        var routed = new RoutedTask(task, actionIndex, raw, penalty, adjusted, verdict.ParseFailure, agentCost, judgeCost);
        LastStep = routed;
        LastVector = new RewardVector(verdict.Quality, agentCost, result.AgentLatencySeconds, penalty);
        return routed;
    }

    /// <summary>A 429 that outlasted the retries, directly or as the cause of a chain's interruption.</summary>
    private static bool IsRateLimited(Exception e) =>
        e is ProviderCallException { Failure: ProviderFailure.RateLimited } or ChainInterruptedException { InnerException: ProviderCallException { Failure: ProviderFailure.RateLimited } };

    /// <summary>
    /// A task a provider's failure ended part-way (a 429 under provider state, or any provider failure inside a chain) is a
    /// failed task the run survives: reward 0. The calls that answered were billed; the refused or failed call counts as one
    /// LLM call too, so the call budget moves on even while a provider keeps refusing. The load window records the chain as
    /// routed and the next task is drawn, as after any task.
    /// </summary>
    private RoutedTask FailedPartWay(RoutingTask task, int actionIndex, RoutingChain chain, int calls, double cost)
    {
        LlmCalls += calls;
        DollarsSpent += cost;
        foreach (var step in chain.Steps)
            load.Record(step.Agent);
        iteration++;
        current = problem.Bank[taskRandom.Choice(problem.Bank.Count)];
        arrivals?.Next(iteration);
        Info["raw_reward"] = 0.0;
        Info["penalty"] = 0.0;
        Info["adjusted_reward"] = 0.0;
        Info["cost_usd"] = cost;
        Info["judge_cost_usd"] = 0.0;
        Info["parse_failure"] = 0;
        Info["imbalance"] = load.Imbalance;
        Info["llm_calls"] = LlmCalls;
        Info["chain_length"] = chain.Length;
        var routed = new RoutedTask(task, actionIndex, 0.0, 0.0, 0.0, false, cost, 0.0);
        LastStep = routed;
        LastVector = new RewardVector(0.0, cost, 0.0, 0.0);
        return routed;
    }

    private static TaskArrivals? ArrivalsFor(RoutingProblem problem, IRoutingBackend backend, long seed) =>
        problem.ProviderState is { } state && backend.Clock is { } clock ? new TaskArrivals(clock, state.ArrivalsPerMinute, seed) : null;

    private static RoutedTaskExecutor ExecutorFor(RoutingProblem problem, IRoutingBackend backend, CompositeReward reward) =>
        new(new ChatProviders(RoutingNames.Providers.ToDictionary(p => p, backend.Client), problem.Providers, problem.Judge), reward);

    public void Dispose() => backend.Dispose();
}
