namespace RLWorkbench.Gym;

/// <summary>
/// Gymnasium's info dictionary with its keys fixed when the environment is built, so that writing
/// it every step allocates nothing.
/// </summary>
public sealed class EnvInfo
{
    private readonly string[] keys;
    private readonly double[] values;
    private readonly Dictionary<string, int> indexOf;

    public EnvInfo(params string[] keys)
    {
        this.keys = (string[])keys.Clone();
        values = new double[keys.Length];
        indexOf = new Dictionary<string, int>(keys.Length, StringComparer.Ordinal);
        for (var i = 0; i < keys.Length; i++)
        {
            if (!indexOf.TryAdd(keys[i], i))
                throw new ArgumentException($"Info key '{keys[i]}' appears twice.", nameof(keys));
        }
    }

    public IReadOnlyList<string> Keys => keys;

    public ReadOnlySpan<double> Values => values;

    public double this[string key]
    {
        get => indexOf.TryGetValue(key, out var i)
            ? values[i]
            : throw new KeyNotFoundException($"No info value '{key}'; this environment reports {string.Join(", ", keys)}.");
        set => values[IndexOf(key)] = value;
    }

    public double this[int index]
    {
        get => values[index];
        set => values[index] = value;
    }

    public int IndexOf(string key) => indexOf.TryGetValue(key, out var i)
        ? i
        : throw new KeyNotFoundException($"No info value '{key}'; this environment reports {string.Join(", ", keys)}.");

    public bool Contains(string key) => indexOf.ContainsKey(key);

    public EnvInfo Clone()
    {
        var copy = new EnvInfo(keys);
        values.CopyTo(copy.values, 0);
        return copy;
    }

    /// <summary>Copies the values of an info with the same keys.</summary>
    public void CopyFrom(EnvInfo other)
    {
        if (other.keys.Length != keys.Length)
            throw new ArgumentException("Infos with different keys cannot be copied.", nameof(other));
        other.values.CopyTo(values, 0);
    }

    public Dictionary<string, double> ToDictionary()
    {
        var d = new Dictionary<string, double>(keys.Length, StringComparer.Ordinal);
        for (var i = 0; i < keys.Length; i++)
            d[keys[i]] = values[i];
        return d;
    }
}
