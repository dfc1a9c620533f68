using RLWorkbench.Gym.Random;
using RLWorkbench.Gym.Spaces;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace RLWorkbench.Ppo;

public enum ActionKind
{
    /// <summary>A Box: the head is the mean of a diagonal Gaussian.</summary>
    Continuous,

    /// <summary>A Discrete: the head gives the logits of a categorical.</summary>
    Discrete,
}

/// <summary>What the network is built for: observation size, action kind and size (Box dimensions or Discrete N), and the box bounds.</summary>
public sealed record PolicyShape(int ObservationSize, ActionKind Kind, int ActionSize, float[] Low, float[] High)
{
    /// <summary>Floats one action occupies in a flat buffer (the env's view): Box dimensions, or 1 for a Discrete index.</summary>
    public int ActionWidth => Kind == ActionKind.Continuous ? ActionSize : 1;

    public static PolicyShape For(Space observationSpace, Space actionSpace) => actionSpace switch
    {
        Box box => new PolicyShape(observationSpace.FlatSize, ActionKind.Continuous, box.FlatSize, box.Low.ToArray(), box.High.ToArray()),
        Discrete d => new PolicyShape(observationSpace.FlatSize, ActionKind.Discrete, d.N, [], []),
        _ => throw new NotSupportedException($"PPO here supports Box and Discrete action spaces, not {actionSpace}."),
    };

    public bool SameAs(PolicyShape other) =>
        ObservationSize == other.ObservationSize && Kind == other.Kind && ActionSize == other.ActionSize
        && Low.AsSpan().SequenceEqual(other.Low) && High.AsSpan().SequenceEqual(other.High);

    public override string ToString() => Kind == ActionKind.Continuous
        ? $"obs {ObservationSize}, Box({ActionSize})"
        : $"obs {ObservationSize}, Discrete({ActionSize})";
}

/// <summary>
/// SB3's ActorCriticPolicy for MlpPolicy: separate policy and value MLPs (ReLU), a linear action
/// head and a linear value head, orthogonal init with gains sqrt(2) / 0.01 / 1 and zero biases, and
/// for Box actions a free log_std vector starting at 0. All weights live in one
/// <see cref="FlatParameters"/> so the optimizer and clipping see a single tensor.
/// </summary>
public sealed class ActorCritic : IDisposable
{
    private readonly (Tensor Weight, Tensor Bias)[] policyLayers;
    private readonly (Tensor Weight, Tensor Bias)[] valueLayers;
    private readonly (Tensor Weight, Tensor Bias) actionHead;
    private readonly (Tensor Weight, Tensor Bias) valueHead;

    public ActorCritic(PolicyShape shape, IReadOnlyList<int> hidden, Device device, IRandomSource initRandom)
    {
        Shape = shape;
        HiddenSizes = [.. hidden];
        Parameters = new FlatParameters(Layout(shape, hidden), device);
        policyLayers = LayersOf("policy", hidden.Count);
        valueLayers = LayersOf("value", hidden.Count);
        actionHead = (Parameters["action.weight"], Parameters["action.bias"]);
        valueHead = (Parameters["value_head.weight"], Parameters["value_head.bias"]);
        LogStd = shape.Kind == ActionKind.Continuous ? Parameters["log_std"] : null;

        using var noGrad = no_grad();
        foreach (var (w, _) in policyLayers.Concat(valueLayers))
            OrthogonalInit.Fill(w, Math.Sqrt(2), initRandom);
        OrthogonalInit.Fill(actionHead.Weight, 0.01, initRandom);
        OrthogonalInit.Fill(valueHead.Weight, 1.0, initRandom);
        // Biases and log_std start at zero because the flat buffer does.
    }

    public PolicyShape Shape { get; }

    public int[] HiddenSizes { get; }

    public FlatParameters Parameters { get; }

    public Device Device => Parameters.Device;

    /// <summary>The Gaussian's log standard deviation per action dimension; null for Discrete actions.</summary>
    public Tensor? LogStd { get; }

    /// <summary>Width of the action head: Box dimensions or the number of discrete actions.</summary>
    public int HeadSize => Shape.ActionSize;

    private static IEnumerable<(string, long[])> Layout(PolicyShape shape, IReadOnlyList<int> hidden)
    {
        foreach (var net in new[] { "policy", "value" })
        {
            long input = shape.ObservationSize;
            for (var i = 0; i < hidden.Count; i++)
            {
                yield return ($"{net}.{i}.weight", [hidden[i], input]);
                yield return ($"{net}.{i}.bias", [hidden[i]]);
                input = hidden[i];
            }
        }
        yield return ("action.weight", [shape.ActionSize, hidden[^1]]);
        yield return ("action.bias", [shape.ActionSize]);
        yield return ("value_head.weight", [1, hidden[^1]]);
        yield return ("value_head.bias", [1]);
        if (shape.Kind == ActionKind.Continuous)
            yield return ("log_std", [shape.ActionSize]);
    }

    private (Tensor, Tensor)[] LayersOf(string net, int count) =>
        [.. Enumerable.Range(0, count).Select(i => (Parameters[$"{net}.{i}.weight"], Parameters[$"{net}.{i}.bias"]))];

    /// <summary>Action head output (Gaussian mean or logits) [B, HeadSize] and value [B] for a batch of observations.</summary>
    public (Tensor Head, Tensor Value) Forward(Tensor observations)
    {
        using var scope = NewDisposeScope();
        var head = F.linear(Mlp(policyLayers, observations), actionHead.Weight, actionHead.Bias);
        var value = F.linear(Mlp(valueLayers, observations), valueHead.Weight, valueHead.Bias).squeeze(1);
        return (head.MoveToOuterDisposeScope(), value.MoveToOuterDisposeScope());
    }

    private static Tensor Mlp((Tensor Weight, Tensor Bias)[] layers, Tensor x)
    {
        foreach (var (w, b) in layers)
            x = F.linear(x, w, b).relu_();
        return x;
    }

    /// <summary>Log-probability of stored actions, entropy and value under the current weights (the update's forward pass).</summary>
    public (Tensor LogProb, Tensor Entropy, Tensor Value) Evaluate(Tensor observations, Tensor actions)
    {
        using var scope = NewDisposeScope();
        var (head, value) = Forward(observations);
        Tensor logProb, entropy;
        if (LogStd is { } logStd)
        {
            logProb = DiagonalGaussian.LogProb(actions, head, logStd);
            entropy = DiagonalGaussian.Entropy(logStd).expand(head.shape[0]);
        }
        else
        {
            logProb = Categorical.LogProb(head, actions);
            entropy = Categorical.Entropy(head);
        }
        return (logProb.MoveToOuterDisposeScope(), entropy.MoveToOuterDisposeScope(), value.MoveToOuterDisposeScope());
    }

    public void Dispose() => Parameters.Dispose();
}
