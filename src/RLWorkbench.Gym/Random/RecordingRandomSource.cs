namespace RLWorkbench.Gym.Random;

/// <summary>Passes every call through to another source and keeps what was drawn, for writing traces.</summary>
public sealed class RecordingRandomSource(IRandomSource inner) : IRandomSource
{
    private readonly List<RandomDraw> recorded = [];

    /// <summary>Returns the draws since the last call and starts a new list.</summary>
    public List<RandomDraw> TakeRecorded()
    {
        var copy = new List<RandomDraw>(recorded);
        recorded.Clear();
        return copy;
    }

    public void Seed(long seed) => inner.Seed(seed);

    public double Uniform(double low, double high) => Keep(DrawKind.Uniform, inner.Uniform(low, high), low, high);

    public int Integer(int low, int high) => (int)Keep(DrawKind.Integer, inner.Integer(low, high), low, high);

    public int Choice(int n) => (int)Keep(DrawKind.Choice, inner.Choice(n), n);

    public double Random() => Keep(DrawKind.Random, inner.Random());

    private double Keep(DrawKind kind, double value, params double[] args)
    {
        recorded.Add(new RandomDraw(kind, args, value));
        return value;
    }
}
