using RLWorkbench.Routing.Core;

namespace RLWorkbench.Comparison.Pareto;

/// <summary>One learner's greedy policies for one weight vector on one seed, on every objective at every checkpoint.</summary>
public sealed record WeightedRun(string Learner, RewardWeights Weights, long Seed, PolicyObjectives[] AtCheckpoint, long CallsSpent, double WallSeconds);

/// <summary>What a Pareto sweep measured: every (learner, weights, seed) run, the exact front, the fixed rules and the weighted oracle.</summary>
public sealed record ParetoResult(
    ComparisonOptions Options,
    long[] Checkpoints,
    ExactFront Exact,
    IReadOnlyList<BaselinePoint> Baselines,
    IReadOnlyList<(RewardWeights Weights, PolicyObjectives Objectives)> WeightedOptima,
    IReadOnlyList<WeightedRun> Runs)
{
    /// <summary>Per (learner, seed), the policies a learner that estimates its own front offers at each checkpoint (the vector bandit's estimated front); others offer one policy per weight vector.</summary>
    public IReadOnlyDictionary<(string Learner, long Seed), PolicyObjectives[][]> OfferedFronts { get; init; } = new Dictionary<(string, long), PolicyObjectives[][]>();

    public IReadOnlyList<string> Learners => Options.Learners;

    public IReadOnlyList<RewardWeights> Weights => Options.Weights!;

    /// <summary>Per checkpoint, the share of the exact fronts' hypervolume that one seed's policies over all weights cover: (cost plane, latency plane).</summary>
    public (double[] Cost, double[] Latency) Ratios(string learner, long seed)
    {
        var runs = Runs.Where(r => r.Learner == learner && r.Seed == seed).ToArray();
        OfferedFronts.TryGetValue((learner, seed), out var offered);
        var cost = new double[Checkpoints.Length];
        var latency = new double[Checkpoints.Length];
        for (var k = 0; k < Checkpoints.Length; k++)
        {
            var points = offered?[k] ?? runs.Select(r => r.AtCheckpoint[k]).ToArray();
            cost[k] = Exact.CostRatio(points);
            latency[k] = Exact.LatencyRatio(points);
        }
        return (cost, latency);
    }

    /// <summary>LLM calls the learner's whole front took when each weight vector's policy had <paramref name="calls"/>: one run for the vector learner, one per weight vector for the others.</summary>
    public long FrontCalls(string learner, long calls) => learner == LearnerNames.Ucb1Vector ? calls : calls * Weights.Count;

    public IEnumerable<long> Seeds => Enumerable.Range(0, Options.Seeds).Select(k => Options.FirstSeed + k);
}

/// <summary>
/// The Pareto sweep of `compare` with a <c>weights</c> list (docs/pareto.md): for each weight vector the problem's reward is that
/// scalarisation of the reward vector, and every learner learns it on every seed with the comparison's call budget, exactly as
/// an ordinary comparison runs (same task streams and simulated draws per seed). Every learner's greedy table at every
/// checkpoint is valued on quality, cost per task and p95 latency; the exact front, the fixed rules and the best policy for
/// each weight vector (the weighted oracle: what linear scalarisation with these weights can reach at best) are computed.
/// </summary>
public sealed class ParetoRunner(ComparisonOptions options, RoutingProblem problem, RoutingBackendFactory backendFactory)
{
    public ParetoResult Run(IComparisonProgress? progress, CancellationToken cancel)
    {
        var weights = options.Weights ?? throw new InvalidOperationException("A Pareto sweep needs weights.");
        var baseModel = new ExactRewardModel(problem.WithWeights(null));
        var objectives = new ObjectiveModel(baseModel);
        var exact = new ExactFront(objectives);
        var baselines = FixedRules.All(objectives, baseModel);
        var cache = new Dictionary<string, PolicyObjectives>(StringComparer.Ordinal);
        PolicyObjectives Of(int[] table)
        {
            var key = string.Join(',', table);
            if (!cache.TryGetValue(key, out var o))
                cache[key] = o = objectives.Of(TaskPolicy.FromTypeTable(problem, table));
            return o;
        }
        var optima = new List<(RewardWeights, PolicyObjectives)>();
        var runs = new List<WeightedRun>();
        var offered = new Dictionary<(string, long), PolicyObjectives[][]>();
        var grid = ComparisonRunner.CheckpointGrid(options.Budget, options.CheckpointGrowth);
        // The vector learner runs once for all weight vectors; every other learner once per weight vector.
        var scalarised = options.Learners.Where(l => l != LearnerNames.Ucb1Vector).ToArray();
        var total = (weights.Length * scalarised.Length + (options.Learners.Length - scalarised.Length)) * options.Seeds;
        var done = 0;
        if (scalarised.Length != options.Learners.Length)
        {
            for (var k = 0; k < options.Seeds; k++)
            {
                cancel.ThrowIfCancellationRequested();
                var seed = options.FirstSeed + k;
                runs.AddRange(RunVector(seed, weights, grid, Of, offered, cancel));
                progress?.SeedFinished(new SeedRun(LearnerNames.Ucb1Vector, seed, [double.NaN], runs[^1].CallsSpent, 0, runs[^1].WallSeconds, 0, 0, 0, null), ++done, total);
            }
        }
        foreach (var w in weights)
        {
            var weighted = problem.WithWeights(w);
            var oracle = new PolicyValuer(new ExactRewardModel(weighted), options.EvaluationHorizon).OracleTable();
            optima.Add((w, Of(oracle)));
            if (scalarised.Length == 0)
                continue;
            var result = new ComparisonRunner(options with { Learners = scalarised }, weighted, backendFactory).Run(new Counting(progress, total, done), cancel);
            if (result.StoppedEarly is not null)
                throw new ComparisonInputException($"The Pareto sweep stopped early ({result.StoppedEarly}); a front needs every weight vector's runs.");
            foreach (var run in result.Runs)
            {
                var tables = run.CheckpointTables ?? throw new ComparisonInputException($"The learner '{run.Learner}' has no greedy table to value on each objective.");
                runs.Add(new WeightedRun(run.Learner, w, run.Seed, tables.Select(Of).ToArray(), run.CallsSpent, run.WallSeconds));
            }
            done += result.Runs.Count;
        }
        return new ParetoResult(options, grid, exact, baselines, optima, runs) { OfferedFronts = offered };
    }

    /// <summary>One run of the vector bandit on the unweighted problem; its greedy table for each weight vector at every checkpoint.</summary>
    private IEnumerable<WeightedRun> RunVector(long seed, RewardWeights[] weights, long[] grid, Func<int[], PolicyObjectives> of,
        Dictionary<(string, long), PolicyObjectives[][]> offered, CancellationToken cancel)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var learner = new VectorUcbLearner(problem.StateCount, problem.ActionCount, weights, options.Bandits.UcbExploration, ComparisonRunner.LearnerRandom(LearnerNames.Ucb1Vector, seed));
        var unweighted = problem.WithWeights(null);
        using var env = new RoutingEnvironment(unweighted, backendFactory, seed);
        env.Reset(checked((int)seed), new float[unweighted.ObservationSize]);
        var points = weights.Select(_ => new PolicyObjectives[grid.Length]).ToArray();
        var fronts = new PolicyObjectives[grid.Length][];
        offered[(LearnerNames.Ucb1Vector, seed)] = fronts;
        void Record(int checkpoint)
        {
            for (var i = 0; i < weights.Length; i++)
                points[i][checkpoint] = of(learner.GreedyTable(weights[i]));
            fronts[checkpoint] = learner.EstimatedFront(unweighted.TypeProbabilities).Select(of).ToArray();
        }
        Record(0);
        var next = 1;
        while (next < grid.Length)
        {
            cancel.ThrowIfCancellationRequested();
            var state = env.CurrentState;
            var action = learner.Choose(state);
            env.Route(action);
            learner.Learn(state, action, env.LastVector!);
            while (next < grid.Length && env.LlmCalls >= grid[next])
                Record(next++);
        }
        return weights.Select((w, i) => new WeightedRun(LearnerNames.Ucb1Vector, w, seed, points[i], env.LlmCalls, clock.Elapsed.TotalSeconds));
    }

    /// <summary>Numbers each (learner, seed) of one weight vector's comparison within the whole sweep.</summary>
    private sealed class Counting(IComparisonProgress? inner, int total, int before) : IComparisonProgress
    {
        public void SeedFinished(SeedRun run, int done, int _) => inner?.SeedFinished(run, before + done, total);
    }
}
