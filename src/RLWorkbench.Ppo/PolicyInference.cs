using RLWorkbench.Gym.Random;
using TorchSharp;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo;

/// <summary>
/// Runs the policy for a fixed batch of observations (all environments of a rollout in one forward
/// pass, or one evaluation environment) and samples on the host. The observation tensor and host
/// arrays are allocated once; a step allocates nothing but the forward pass's own temporaries, which
/// a dispose scope frees. Sampling on the host keeps every random draw of training in one
/// <see cref="IRandomSource"/> that a checkpoint can save and restore.
/// </summary>
public sealed class PolicyInference : IDisposable
{
    private readonly ActorCritic policy;
    private readonly Tensor observations;
    private readonly float[] head;
    private readonly float[] logStd;
    private readonly float[] noise;

    public PolicyInference(ActorCritic policy, int batch)
    {
        this.policy = policy;
        Batch = batch;
        observations = zeros([batch, policy.Shape.ObservationSize], ScalarType.Float32, policy.Device);
        head = new float[batch * policy.HeadSize];
        logStd = new float[policy.HeadSize];
        noise = new float[policy.HeadSize];
        Values = new float[batch];
    }

    public int Batch { get; }

    /// <summary>The value estimates of the last call's observations.</summary>
    public float[] Values { get; }

    /// <summary>
    /// Chooses actions for <see cref="Batch"/> observations. Writes the unclipped action (Box) or the index
    /// (Discrete) to <paramref name="actions"/>, its log-probability to <paramref name="logProbs"/>, and the value
    /// estimates to <see cref="Values"/>. Deterministic means the Gaussian mean or the argmax.
    /// </summary>
    public void Act(ReadOnlySpan<float> obs, Span<float> actions, Span<float> logProbs, bool deterministic, IRandomSource random)
    {
        Forward(obs);
        var h = policy.HeadSize;
        if (policy.LogStd is { } logStdTensor)
        {
            using (var detached = logStdTensor.detach())
                HostTransfer.CopyToHost(detached, logStd);
            double logStdSum = 0;
            foreach (var l in logStd)
                logStdSum += l;
            for (var b = 0; b < Batch; b++)
            {
                if (deterministic)
                    noise.AsSpan().Clear();
                else
                    Gaussian.Fill(random, noise);
                var mean = head.AsSpan(b * h, h);
                var action = actions.Slice(b * h, h);
                for (var j = 0; j < h; j++)
                    action[j] = mean[j] + MathF.Exp(logStd[j]) * noise[j];
                logProbs[b] = (float)DiagonalGaussian.LogProbOfNoise(noise, logStdSum);
            }
        }
        else
        {
            for (var b = 0; b < Batch; b++)
            {
                var logits = head.AsSpan(b * h, h);
                var (a, lp) = deterministic ? Categorical.Argmax(logits) : Categorical.Sample(logits, random.Random());
                actions[b] = a;
                logProbs[b] = (float)lp;
            }
        }
    }

    /// <summary>Only the value estimates (bootstrapping the last observation or a truncated episode's final one).</summary>
    public void PredictValues(ReadOnlySpan<float> obs) => Forward(obs);

    private void Forward(ReadOnlySpan<float> obs)
    {
        HostTransfer.CopyToDevice(obs, observations);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (h, v) = policy.Forward(observations);
        HostTransfer.CopyToHost(h, head);
        HostTransfer.CopyToHost(v, Values);
    }

    public void Dispose() => observations.Dispose();
}
