namespace RLWorkbench.Gym.Random;

/// <summary>
/// xoshiro256** seeded through SplitMix64: fast, allocation-free, identical on every platform and
/// .NET version, and its whole state fits in four numbers so a checkpoint can save and restore it.
/// </summary>
public sealed class SeededRandomSource : IRandomSource
{
    private ulong s0, s1, s2, s3;

    public SeededRandomSource(long seed) => Seed(seed);

    public void Seed(long seed)
    {
        var x = unchecked((ulong)seed);
        s0 = SplitMix(ref x);
        s1 = SplitMix(ref x);
        s2 = SplitMix(ref x);
        s3 = SplitMix(ref x);
    }

    public ulong[] GetState() => [s0, s1, s2, s3];

    public void SetState(IReadOnlyList<ulong> state)
    {
        if (state.Count != 4 || (state[0] | state[1] | state[2] | state[3]) == 0)
            throw new ArgumentException("A random state is four numbers, not all zero.", nameof(state));
        (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3]);
    }

    public double Random() => (Next() >> 11) * (1.0 / (1UL << 53));

    public double Uniform(double low, double high) => low + (high - low) * Random();

    public int Integer(int low, int high)
    {
        if (high <= low)
            throw new ArgumentOutOfRangeException(nameof(high), $"integer({low}, {high}) needs high > low.");
        return low + (int)Bounded((ulong)((long)high - low));
    }

    public int Choice(int n)
    {
        if (n < 1)
            throw new ArgumentOutOfRangeException(nameof(n), $"choice({n}) needs n >= 1.");
        return (int)Bounded((ulong)n);
    }

    // Lemire's multiply-and-reject: unbiased without a division in the common case.
    private ulong Bounded(ulong range)
    {
        var m = Math.BigMul(Next(), range, out var low);
        if (low < range)
        {
            var threshold = (0 - range) % range;
            while (low < threshold)
                m = Math.BigMul(Next(), range, out low);
        }
        return m;
    }

    private ulong Next()
    {
        var result = ulong.RotateLeft(s1 * 5, 7) * 9;
        var t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = ulong.RotateLeft(s3, 45);
        return result;
    }

    private static ulong SplitMix(ref ulong x)
    {
        var z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
