using RLWorkbench.Gym.Random;
using TorchSharp;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo;

/// <summary>
/// Runs the policy for a fixed batch of raw observations (all environments of a rollout in one
/// forward pass, or a batch of evaluation environments): normalises them with the policy's frozen
/// observation statistics when it has any, runs the network, and samples on the host through the
/// policy's distribution. The observation tensor and host arrays are allocated once; a step
/// allocates nothing but the forward pass's own temporaries, which a dispose scope frees. Sampling
/// on the host keeps every random draw of training in one <see cref="IRandomSource"/> that a
/// checkpoint can save and restore.
/// </summary>
public sealed class PolicyInference : IDisposable
{
    private readonly ActorCritic policy;
    private readonly IActionDistribution distribution;
    private readonly Tensor observations;
    private readonly float[] inputs;
    private readonly float[] head;
    private readonly float[] stateIndependent;

    public PolicyInference(ActorCritic policy, int batch)
    {
        this.policy = policy;
        distribution = policy.Distribution;
        Batch = batch;
        observations = zeros([batch, policy.Shape.ObservationSize], ScalarType.Float32, policy.Device);
        inputs = new float[batch * policy.Shape.ObservationSize];
        head = new float[batch * policy.HeadSize];
        stateIndependent = new float[distribution.StateIndependentParameter?.Width ?? 0];
        Values = new float[batch];
    }

    public int Batch { get; }

    /// <summary>The value estimates of the last call's observations.</summary>
    public float[] Values { get; }

    /// <summary>What the network saw in the last call: the observations, normalised when the policy normalises. The rollout stores these.</summary>
    public ReadOnlySpan<float> Inputs => inputs;

    /// <summary>
    /// Chooses actions for <see cref="Batch"/> observations. Writes the stored form of each action (the
    /// distribution's ActionWidth floats; an index for a categorical) to <paramref name="actions"/>, its
    /// log-probability to <paramref name="logProbs"/>, and the value estimates to <see cref="Values"/>.
    /// Deterministic means the distribution's deterministic action (Gaussian mean, argmax, ...).
    /// </summary>
    public void Act(ReadOnlySpan<float> obs, Span<float> actions, Span<float> logProbs, bool deterministic, IRandomSource random)
    {
        Forward(obs);
        if (policy.StateIndependent is { } free)
        {
            using var detached = free.detach();
            HostTransfer.CopyToHost<float>(detached, stateIndependent);
        }
        var h = policy.HeadSize;
        var width = distribution.ActionWidth;
        for (var b = 0; b < Batch; b++)
        {
            var row = head.AsSpan(b * h, h);
            var action = actions.Slice(b * width, width);
            logProbs[b] = (float)(deterministic
                ? distribution.Deterministic(row, stateIndependent, action)
                : distribution.Sample(row, stateIndependent, random, action));
        }
    }

    /// <summary>Only the value estimates (bootstrapping the last observation or a truncated episode's final one).</summary>
    public void PredictValues(ReadOnlySpan<float> obs) => Forward(obs);

    /// <summary>The mean log standard deviation of the policy at these observations (log_std_mean); NaN for a categorical.</summary>
    public double MeanLogStd(ReadOnlySpan<float> obs)
    {
        Forward(obs);
        if (policy.StateIndependent is { } free)
        {
            using var detached = free.detach();
            HostTransfer.CopyToHost<float>(detached, stateIndependent);
        }
        var h = policy.HeadSize;
        double sum = 0;
        for (var b = 0; b < Batch; b++)
            sum += distribution.MeanLogStd(head.AsSpan(b * h, h), stateIndependent);
        return sum / Batch;
    }

    private void Forward(ReadOnlySpan<float> obs)
    {
        if (policy.Normalizer is { } normalizer)
            normalizer.Normalize(obs, inputs);
        else
            obs.CopyTo(inputs);
        HostTransfer.CopyToDevice<float>(inputs, observations);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (h, v) = policy.Forward(observations);
        HostTransfer.CopyToHost<float>(h, head);
        HostTransfer.CopyToHost<float>(v, Values);
    }

    public void Dispose() => observations.Dispose();
}
