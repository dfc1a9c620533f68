using RLWorkbench.Comparison;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Experiments.Qlearn;

/// <summary>
/// The exact expected reward per task of a coordinator's greedy routing on the simulated backend, computed from the
/// simulation profile as compare values every learner (docs/compare.md): no sampling noise, so a curve of it shows
/// what the learner knows rather than what it happened to draw.
/// </summary>
internal sealed class GreedyRoutingValue
{
    private readonly RoutingProblem problem;
    private readonly PolicyValuer valuer;

    private GreedyRoutingValue(RoutingProblem problem, PolicyValuer valuer)
    {
        this.problem = problem;
        this.valuer = valuer;
    }

    /// <summary>The valuation of a simulated run's routing problem; null when the exact model cannot handle its settings.</summary>
    public static GreedyRoutingValue? For(QlearnOptions options, int horizon = 32)
    {
        // The exact model values single agents under the seed's reward, by task type and load; a chain run, a run with other
        // weights or with the providers' health in its state is scored from its rows instead.
        if (options.Backend != QlearnOptions.Backends.Simulated || options.Chains.RoutesChains || options.Weights is not null || options.State != QlearnOptions.StateKinds.Coordinator)
            return null;
        try
        {
            var problem = ComparisonRunner.BuildProblem(new ProblemOptions
            {
                Kind = options.Learner,
                Profile = options.Profile,
                Tasks = options.Tasks,
                Prices = options.Prices,
                Providers = options.Providers,
                JudgeProvider = options.JudgeProvider,
                Reward = options.Reward,
                Load = options.Load,
            });
            return new GreedyRoutingValue(problem, new PolicyValuer(new ExactRewardModel(problem), horizon));
        }
        catch (ComparisonInputException)
        {
            return null;
        }
    }

    /// <summary>The best routing's expected reward per task (the profile's oracle).</summary>
    public double Oracle => valuer.OracleValue;

    /// <summary>The coordinator's greedy action in every state of the problem, valued exactly.</summary>
    public double Of(QLearningCoordinator coordinator)
    {
        var table = new int[problem.StateCount];
        for (var s = 0; s < table.Length; s++)
        {
            var (type, load) = problem.StateParts(s);
            table[s] = coordinator.RoutingLearner.Greedy(coordinator.StateIndex(coordinator.StateOf(RoutingNames.TaskTypes[type], LoadStates.All[load])));
        }
        return valuer.Value(new TablePolicy(table));
    }
}
