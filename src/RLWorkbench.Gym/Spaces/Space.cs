namespace RLWorkbench.Gym.Spaces;

/// <summary>The set of values an observation or action may take, shaped like Gymnasium's spaces.</summary>
public abstract class Space
{
    /// <summary>Number of float values one element of this space occupies in a flat buffer.</summary>
    public abstract int FlatSize { get; }

    public abstract bool Contains(ReadOnlySpan<float> value);
}
