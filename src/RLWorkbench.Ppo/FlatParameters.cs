using TorchSharp;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo;

/// <summary>A named weight or bias: its shape, where it sits in the flat buffer, and the leaf tensor autograd sees.</summary>
public sealed record NamedParameter(string Name, long[] Shape, long Offset, long Count, Tensor Leaf);

/// <summary>
/// Every weight of a network in one contiguous tensor, and every gradient in another. Each weight is a
/// leaf tensor sharing memory with its slice of <see cref="Values"/>, and its .grad is the matching
/// slice of <see cref="Gradients"/>, so backward accumulates straight into the flat gradient. Clipping
/// the global norm and the Adam step are then a handful of ops over one tensor, not dozens of small ones
/// per layer (the difference that matters when a minibatch step is about a millisecond).
/// </summary>
public sealed class FlatParameters : IDisposable
{
    private readonly List<NamedParameter> parameters = [];

    public FlatParameters(IEnumerable<(string Name, long[] Shape)> specs, Device device)
    {
        var list = specs.ToList();
        var total = list.Sum(s => s.Shape.Aggregate(1L, (a, b) => a * b));
        Values = zeros(total, ScalarType.Float32, device);
        Gradients = zeros(total, ScalarType.Float32, device);
        long offset = 0;
        foreach (var (name, shape) in list)
        {
            var count = shape.Aggregate(1L, (a, b) => a * b);
            using var valueSlice = Values.narrow(0, offset, count);
            var leaf = valueSlice.view(shape).detach().requires_grad_(true);
            using (var gradSlice = Gradients.narrow(0, offset, count))
                leaf.grad = gradSlice.view(shape);
            parameters.Add(new NamedParameter(name, shape, offset, count, leaf));
            offset += count;
        }
        Count = total;
        Device = device;
    }

    public Tensor Values { get; }

    public Tensor Gradients { get; }

    public long Count { get; }

    public Device Device { get; }

    public IReadOnlyList<NamedParameter> Parameters => parameters;

    public Tensor this[string name] => parameters.Find(p => p.Name == name)?.Leaf
        ?? throw new KeyNotFoundException($"No parameter '{name}'.");

    /// <summary>Zeroes the gradients in place; replacing them would detach the per-layer views.</summary>
    public void ZeroGradients() => Gradients.zero_();

    public float[] ValuesToArray() => HostTransfer.ToArray(Values);

    public void LoadValues(ReadOnlySpan<float> values)
    {
        if (values.Length != Count)
            throw new ArgumentException($"Expected {Count} parameter values, got {values.Length}.", nameof(values));
        HostTransfer.CopyToDevice(values, Values);
    }

    public void Dispose()
    {
        foreach (var p in parameters)
            p.Leaf.Dispose();
        Values.Dispose();
        Gradients.Dispose();
    }
}
