using RLWorkbench.Gym.Random;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo;

/// <summary>
/// One kind of action distribution (SB3's Distribution classes): how wide the action head is, what a
/// rollout stores, how that becomes the environment's action, and the log-probability and entropy the
/// update needs. The policy, training, inference, evaluation and checkpoints go through this alone, so
/// a new distribution is one new implementation plus a name in <see cref="ActionDistributions"/>.
/// Sampling runs on the host from a passed-in random source, so a checkpoint restores every draw.
/// </summary>
public interface IActionDistribution
{
    /// <summary>The name in options and checkpoint headers, e.g. "diag-gaussian".</summary>
    string Name { get; }

    /// <summary>Outputs of the action head per observation.</summary>
    int HeadWidth { get; }

    /// <summary>Floats per action, both as the rollout stores it and as the environment receives it.</summary>
    int ActionWidth { get; }

    /// <summary>A learnable vector that does not depend on the state (SB3's log_std), or null when there is none.</summary>
    (string Name, int Width)? StateIndependentParameter { get; }

    /// <summary>Starting values after the orthogonal init zeroed the head's bias and the state-independent vector.</summary>
    void Initialise(Span<float> headBias, Span<float> stateIndependent);

    /// <summary>
    /// Log-probability [B] and entropy (or its estimate) [B] of stored actions [B, ActionWidth] given the
    /// head output [B, HeadWidth], on the head's device, differentiable in both the head and the
    /// state-independent vector.
    /// </summary>
    (Tensor LogProb, Tensor Entropy) Evaluate(Tensor head, Tensor? stateIndependent, Tensor actions);

    /// <summary>Draws one action for one head row into <paramref name="action"/> and returns its log-probability.</summary>
    double Sample(ReadOnlySpan<float> head, ReadOnlySpan<float> stateIndependent, IRandomSource random, Span<float> action);

    /// <summary>The deterministic action (evaluation, predict) for one head row, and its log-probability.</summary>
    double Deterministic(ReadOnlySpan<float> head, ReadOnlySpan<float> stateIndependent, Span<float> action);

    /// <summary>What the environment receives for a stored action.</summary>
    void ToEnvironment(ReadOnlySpan<float> action, Span<float> environmentAction);

    /// <summary>The mean log standard deviation for one head row (logged as log_std_mean), or NaN when the idea does not apply.</summary>
    double MeanLogStd(ReadOnlySpan<float> head, ReadOnlySpan<float> stateIndependent);
}
