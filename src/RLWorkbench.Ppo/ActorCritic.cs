using RLWorkbench.Gym.Random;
using RLWorkbench.Gym.Spaces;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace RLWorkbench.Ppo;

public enum ActionKind
{
    /// <summary>A Box; what the head means is up to the chosen distribution (<see cref="ActionDistributions"/>).</summary>
    Continuous,

    /// <summary>A Discrete: always a categorical over the head's logits.</summary>
    Discrete,
}

/// <summary>What the network is built for: observation size, action kind and size (Box dimensions or Discrete N), and the box bounds.</summary>
public sealed record PolicyShape(int ObservationSize, ActionKind Kind, int ActionSize, float[] Low, float[] High)
{
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
/// head and a linear value head, orthogonal init with gains sqrt(2) / 0.01 / 1 and zero biases. What
/// the action head means (a Gaussian's mean, logits, Beta concentrations) and any state-independent
/// vector (SB3's log_std) belong to its <see cref="IActionDistribution"/>; the observation normaliser,
/// when the options ask for one, travels with the weights. All weights live in one
/// <see cref="FlatParameters"/> so the optimizer and clipping see a single tensor.
/// </summary>
public sealed class ActorCritic : IDisposable
{
    private readonly (Tensor Weight, Tensor Bias)[] policyLayers;
    private readonly (Tensor Weight, Tensor Bias)[] valueLayers;
    private readonly (Tensor Weight, Tensor Bias) actionHead;
    private readonly (Tensor Weight, Tensor Bias) valueHead;

    /// <summary>The seed's policy (diagonal Gaussian or categorical, no normaliser) with these hidden sizes.</summary>
    public ActorCritic(PolicyShape shape, IReadOnlyList<int> hidden, Device device, IRandomSource initRandom)
        : this(shape, new PpoOptions { HiddenSizes = [.. hidden] }, device, initRandom)
    {
    }

    /// <summary>The policy the options describe: hidden sizes, action distribution and observation normalisation.</summary>
    public ActorCritic(PolicyShape shape, PpoOptions options, Device device, IRandomSource initRandom)
    {
        Shape = shape;
        HiddenSizes = [.. options.HiddenSizes];
        Distribution = ActionDistributions.For(shape, options);
        Normalizer = options.NormalizeObservations ? new ObservationNormalizer(shape.ObservationSize, options.ObservationClip) : null;
        Parameters = new FlatParameters(Layout(shape, HiddenSizes, Distribution), device);
        policyLayers = LayersOf("policy", HiddenSizes.Length);
        valueLayers = LayersOf("value", HiddenSizes.Length);
        actionHead = (Parameters["action.weight"], Parameters["action.bias"]);
        valueHead = (Parameters["value_head.weight"], Parameters["value_head.bias"]);
        StateIndependent = Distribution.StateIndependentParameter is { } free ? Parameters[free.Name] : null;

        using var noGrad = no_grad();
        foreach (var (w, _) in policyLayers.Concat(valueLayers))
            OrthogonalInit.Fill(w, Math.Sqrt(2), initRandom);
        OrthogonalInit.Fill(actionHead.Weight, 0.01, initRandom);
        OrthogonalInit.Fill(valueHead.Weight, 1.0, initRandom);
        // Biases start at zero because the flat buffer does; the distribution sets what it wants otherwise (a log std).
        var values = Parameters.ValuesToArray();
        Distribution.Initialise(Slice(values, "action.bias"),
            Distribution.StateIndependentParameter is { } p ? Slice(values, p.Name) : []);
        Parameters.LoadValues(values);
    }

    private Span<float> Slice(float[] values, string name)
    {
        var p = Parameters.Parameters.First(p => p.Name == name);
        return values.AsSpan((int)p.Offset, (int)p.Count);
    }

    public PolicyShape Shape { get; }

    public int[] HiddenSizes { get; }

    public IActionDistribution Distribution { get; }

    /// <summary>Running observation statistics applied by <see cref="PolicyInference"/>; null when observations are used raw (the seed).</summary>
    public ObservationNormalizer? Normalizer { get; }

    public FlatParameters Parameters { get; }

    public Device Device => Parameters.Device;

    /// <summary>The distribution's state-independent vector (SB3's log_std), or null when it has none.</summary>
    public Tensor? StateIndependent { get; }

    /// <summary>Width of the action head.</summary>
    public int HeadSize => Distribution.HeadWidth;

    private static IEnumerable<(string, long[])> Layout(PolicyShape shape, IReadOnlyList<int> hidden, IActionDistribution distribution)
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
        yield return ("action.weight", [distribution.HeadWidth, hidden[^1]]);
        yield return ("action.bias", [distribution.HeadWidth]);
        yield return ("value_head.weight", [1, hidden[^1]]);
        yield return ("value_head.bias", [1]);
        if (distribution.StateIndependentParameter is { } free)
            yield return (free.Name, [free.Width]);
    }

    private (Tensor, Tensor)[] LayersOf(string net, int count) =>
        [.. Enumerable.Range(0, count).Select(i => (Parameters[$"{net}.{i}.weight"], Parameters[$"{net}.{i}.bias"]))];

    /// <summary>
    /// Whether a parameter belongs to the value side (value MLP and head); everything else (policy MLP,
    /// action head, state-independent vector) is the policy side. Separate gradient clipping groups by it.
    /// </summary>
    public bool IsValueParameter(string name) =>
        name.StartsWith("value.", StringComparison.Ordinal) || name.StartsWith("value_head.", StringComparison.Ordinal);

    /// <summary>Action head output [B, HeadSize] and value [B] for a batch of network inputs (normalised observations when a normaliser is in use).</summary>
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
        var (logProb, entropy) = Distribution.Evaluate(head, StateIndependent, actions);
        return (logProb.MoveToOuterDisposeScope(), entropy.MoveToOuterDisposeScope(), value.MoveToOuterDisposeScope());
    }

    public void Dispose() => Parameters.Dispose();
}
