using RLWorkbench.Gym;
using RLWorkbench.Gym.Random;

namespace RLWorkbench.Ppo;

/// <summary>One evaluation episode: its return, length and the environment's info at its last step.</summary>
public sealed record EvaluationEpisode(double Return, int Length, IReadOnlyDictionary<string, double> FinalInfo);

/// <summary>Plays whole episodes with a policy, deterministic by default (Gaussian mean clipped to the box, or argmax), like SB3's evaluate_policy.</summary>
public static class PolicyEvaluation
{
    /// <summary>
    /// Runs <paramref name="episodes"/> episodes on <paramref name="env"/>; episode k starts from seed
    /// <paramref name="seed"/> + k, so repeated evaluations of a changing policy see the same episodes.
    /// </summary>
    public static List<EvaluationEpisode> Run(ActorCritic policy, IEnv env, int episodes, int seed, bool deterministic = true, IRandomSource? random = null, int maxSteps = 1_000_000)
    {
        if (!deterministic && random is null)
            throw new ArgumentException("A stochastic evaluation needs a random source.", nameof(random));
        var shape = policy.Shape;
        var envShape = PolicyShape.For(env.ObservationSpace, env.ActionSpace);
        if (!envShape.SameAs(shape))
            throw new ArgumentException($"The policy was trained on {shape}, but this environment is {envShape}.", nameof(env));
        using var inference = new PolicyInference(policy, 1);
        var obs = new float[shape.ObservationSize];
        var action = new float[shape.ActionWidth];
        var envAction = new float[shape.ActionWidth];
        var logProb = new float[1];
        var results = new List<EvaluationEpisode>(episodes);
        for (var k = 0; k < episodes; k++)
        {
            env.Reset(seed + k, obs);
            double total = 0;
            var length = 0;
            while (true)
            {
                inference.Act(obs, action, logProb, deterministic, random!);
                if (shape.Kind == ActionKind.Continuous)
                {
                    for (var j = 0; j < action.Length; j++)
                        envAction[j] = Math.Clamp(action[j], shape.Low[j], shape.High[j]);
                }
                else
                {
                    envAction[0] = action[0];
                }
                var step = env.Step(envAction, obs);
                total += step.Reward;
                length++;
                if (step.Done || length >= maxSteps)
                    break;
            }
            results.Add(new EvaluationEpisode(total, length, env.Info.ToDictionary()));
        }
        return results;
    }
}
