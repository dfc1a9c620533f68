namespace RLWorkbench.Gym.Spaces;

/// <summary>The integers 0..N-1, like gymnasium.spaces.Discrete. In a flat float buffer an element is one value.</summary>
public sealed class Discrete : Space
{
    public Discrete(int n)
    {
        if (n < 1)
            throw new ArgumentOutOfRangeException(nameof(n), n, $"A discrete space needs at least one value, got {n}.");
        N = n;
    }

    public int N { get; }

    public override int FlatSize => 1;

    public override bool Contains(ReadOnlySpan<float> value) =>
        value.Length == 1 && value[0] >= 0 && value[0] < N && value[0] == MathF.Floor(value[0]);

    public override string ToString() => $"Discrete({N})";
}
