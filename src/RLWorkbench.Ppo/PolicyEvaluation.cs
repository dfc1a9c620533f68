using RLWorkbench.Gym;
using RLWorkbench.Gym.Random;

namespace RLWorkbench.Ppo;

/// <summary>One evaluation episode: its return, length and the environment's info at its last step.</summary>
public sealed record EvaluationEpisode(double Return, int Length, IReadOnlyDictionary<string, double> FinalInfo);

/// <summary>
/// Plays whole episodes with a policy, deterministic by default (its distribution's deterministic
/// action: the Gaussian mean clipped to the box, tanh of the mean, the Beta's mean, the argmax), like
/// SB3's evaluate_policy, with the policy's observation statistics frozen. Episodes run side by side, one per environment given, so a
/// step of all of them is one forward pass: ten 200-step episodes cost 200 forwards, not 2000.
/// </summary>
public static class PolicyEvaluation
{
    /// <summary>
    /// Runs <paramref name="episodes"/> episodes in waves of <paramref name="envs"/>.Count; episode k starts
    /// from seed <paramref name="seed"/> + k, so repeated evaluations of a changing policy see the same episodes.
    /// </summary>
    public static List<EvaluationEpisode> Run(ActorCritic policy, IReadOnlyList<IEnv> envs, int episodes, int seed,
        bool deterministic = true, IRandomSource? random = null, int maxSteps = 1_000_000)
    {
        if (!deterministic && random is null)
            throw new ArgumentException("A stochastic evaluation needs a random source.", nameof(random));
        var shape = policy.Shape;
        foreach (var env in envs)
        {
            var envShape = PolicyShape.For(env.ObservationSpace, env.ActionSpace);
            if (!envShape.SameAs(shape))
                throw new ArgumentException($"The policy was trained on {shape}, but this environment is {envShape}.", nameof(envs));
        }
        var results = new List<EvaluationEpisode>(episodes);
        for (var first = 0; first < episodes; first += envs.Count)
            RunWave(policy, envs.Take(Math.Min(envs.Count, episodes - first)).ToList(), seed + first, deterministic, random, maxSteps, results);
        return results;
    }

    private static void RunWave(ActorCritic policy, List<IEnv> envs, int seed, bool deterministic, IRandomSource? random, int maxSteps, List<EvaluationEpisode> results)
    {
        var n = envs.Count;
        var obsSize = policy.Shape.ObservationSize;
        var width = policy.Distribution.ActionWidth;
        using var inference = new PolicyInference(policy, n);
        var obs = new float[n * obsSize];
        var actions = new float[n * width];
        var envAction = new float[width];
        var logProbs = new float[n];
        var totals = new double[n];
        var lengths = new int[n];
        var finished = new EvaluationEpisode?[n];
        for (var i = 0; i < n; i++)
            envs[i].Reset(seed + i, obs.AsSpan(i * obsSize, obsSize));
        var running = n;
        while (running > 0)
        {
            // Finished episodes keep their last observation in the batch; their actions are ignored.
            inference.Act(obs, actions, logProbs, deterministic, random!);
            for (var i = 0; i < n; i++)
            {
                if (finished[i] is not null)
                    continue;
                policy.Distribution.ToEnvironment(actions.AsSpan(i * width, width), envAction);
                var step = envs[i].Step(envAction, obs.AsSpan(i * obsSize, obsSize));
                totals[i] += step.Reward;
                lengths[i]++;
                if (step.Done || lengths[i] >= maxSteps)
                {
                    finished[i] = new EvaluationEpisode(totals[i], lengths[i], envs[i].Info.ToDictionary());
                    running--;
                }
            }
        }
        results.AddRange(finished!);
    }
}
