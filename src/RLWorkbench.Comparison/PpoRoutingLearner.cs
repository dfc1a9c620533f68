using RLWorkbench.Gym.Spaces;
using RLWorkbench.Ppo;
using RLWorkbench.Routing.Learning;
using static TorchSharp.torch;

namespace RLWorkbench.Comparison;

/// <summary>
/// PPO as a routing learner: the workbench's trainer stepped from outside, one task at a time, on the same task stream
/// (and the same simulated draws) as every other learner. The configured rollout of numEnvs x stepsPerEnv transitions is
/// collected from that one stream as one environment, so an update still sees as many tasks as configured. A task's
/// transition is complete only when the next task's observation is known, so it is handed to the trainer when the next
/// task is chosen; the update that a full rollout triggers runs then. Episodes are cut every <c>episodeLength</c> tasks and
/// bootstrapped, as the routing environment cuts them (routing has no natural end).
/// </summary>
public sealed class PpoRoutingLearner : IRoutingLearner, IDisposable
{
    private readonly PpoTrainer trainer;
    private readonly PolicyInference readout;
    private readonly float[] allObservations;
    private readonly float[] greedyActions;
    private readonly float[] greedyLogProbs;
    private readonly int episodeLength;
    private bool started;
    private double? pendingReward;
    private int episodeStep;
    private int[]? greedy;
    private int greedyAtUpdate = -1;

    public PpoRoutingLearner(RoutingProblem problem, PpoOptions options, int episodeLength, Device device)
    {
        if (episodeLength < 1)
            throw new ArgumentOutOfRangeException(nameof(episodeLength), episodeLength, "An episode is at least one task.");
        this.episodeLength = episodeLength;
        var oneStream = options with { NumEnvs = 1, StepsPerEnv = options.NumEnvs * options.StepsPerEnv };
        trainer = new PpoTrainer(oneStream, new Box(0f, 1f, problem.ObservationSize), new Discrete(problem.ActionCount), device);
        readout = new PolicyInference(trainer.Policy, problem.StateCount);
        allObservations = problem.AllObservations();
        greedyActions = new float[problem.StateCount];
        greedyLogProbs = new float[problem.StateCount];
    }

    public long LearnedParameters => trainer.Policy.Parameters.Count;

    /// <summary>Updates so far (each one a full rollout of tasks).</summary>
    public int Updates => trainer.Updates;

    public int Choose(in RoutingContext context)
    {
        var observation = context.Observation ?? throw new ArgumentException("PPO routes from the task's observation, and this context carries none.", nameof(context));
        if (!started)
        {
            trainer.Begin(observation);
            started = true;
        }
        else
        {
            var reward = pendingReward ?? throw new InvalidOperationException("The last routed task's outcome was not learned before the next task was chosen.");
            episodeStep++;
            var truncated = episodeStep >= episodeLength;
            if (truncated)
                episodeStep = 0;
            trainer.Observe(reward, observation, terminated: false, truncated);
            pendingReward = null;
        }
        return (int)trainer.Act()[0];
    }

    /// <summary>Keeps what the task earned (the environment's reward, less the load penalty when load-balanced): its transition ends at the next task's observation.</summary>
    public void Learn(in RoutingContext context, in RoutedTask outcome) => pendingReward = outcome.AdjustedReward;

    /// <summary>The argmax action for every state's observation, read after the latest update (with provider state, every provider at the assumed health).</summary>
    public RoutingPolicy GreedyPolicy()
    {
        if (greedy is null || greedyAtUpdate != trainer.Updates)
        {
            readout.Act(allObservations, greedyActions, greedyLogProbs, deterministic: true, trainer.Random);
            greedy = [.. greedyActions.Select(a => (int)a)];
            greedyAtUpdate = trainer.Updates;
        }
        return new TablePolicy([.. greedy]);
    }

    public void Dispose()
    {
        readout.Dispose();
        trainer.Dispose();
    }
}
