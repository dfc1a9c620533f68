namespace RLWorkbench.Gym.Spaces;

/// <summary>A box of real vectors with per-element bounds, like gymnasium.spaces.Box.</summary>
public sealed class Box : Space
{
    private readonly float[] low;
    private readonly float[] high;

    public Box(float low, float high, params int[] shape)
    {
        if (shape.Length == 0 || shape.Any(d => d <= 0))
            throw new ArgumentException($"A box shape needs one or more positive dimensions, got [{string.Join(", ", shape)}].", nameof(shape));
        if (!(low <= high))
            throw new ArgumentException($"A box needs low <= high, got low {low} and high {high}.", nameof(low));
        Shape = (int[])shape.Clone();
        var size = shape.Aggregate(1, (a, b) => checked(a * b));
        this.low = Enumerable.Repeat(low, size).ToArray();
        this.high = Enumerable.Repeat(high, size).ToArray();
    }

    public Box(float[] low, float[] high)
    {
        if (low.Length == 0 || low.Length != high.Length)
            throw new ArgumentException($"Box bounds need the same non-zero length, got {low.Length} and {high.Length}.", nameof(low));
        for (var i = 0; i < low.Length; i++)
        {
            if (!(low[i] <= high[i]))
                throw new ArgumentException($"A box needs low <= high, got low {low[i]} and high {high[i]} at index {i}.", nameof(low));
        }
        Shape = [low.Length];
        this.low = (float[])low.Clone();
        this.high = (float[])high.Clone();
    }

    public IReadOnlyList<int> Shape { get; }

    public override int FlatSize => low.Length;

    public ReadOnlySpan<float> Low => low;

    public ReadOnlySpan<float> High => high;

    public override bool Contains(ReadOnlySpan<float> value)
    {
        if (value.Length != low.Length)
            return false;
        for (var i = 0; i < value.Length; i++)
        {
            if (!(value[i] >= low[i] && value[i] <= high[i]))
                return false;
        }
        return true;
    }

    /// <summary>Writes <paramref name="value"/> clipped into the box to <paramref name="destination"/>.</summary>
    public void Clip(ReadOnlySpan<float> value, Span<float> destination)
    {
        for (var i = 0; i < value.Length; i++)
            destination[i] = Math.Clamp(value[i], low[i], high[i]);
    }

    public override string ToString() =>
        $"Box({(low.All(l => l == low[0]) ? low[0] : "[...]")}, {(high.All(h => h == high[0]) ? high[0] : "[...]")}, ({string.Join(", ", Shape)}))";
}
