using RLWorkbench.Gym.Random;

namespace RLWorkbench.Routing.Tests;

/// <summary>Returns the draws a test scripts, in order, and fails loudly if code draws more or of another kind.</summary>
internal sealed class ScriptedRandom(params (string Kind, double Value)[] draws) : IRandomSource
{
    private readonly Queue<(string Kind, double Value)> queue = new(draws);

    public int Remaining => queue.Count;

    private double Next(string kind)
    {
        if (queue.Count == 0)
            throw new InvalidOperationException($"Unscripted {kind} draw.");
        var (k, v) = queue.Dequeue();
        if (k != kind)
            throw new InvalidOperationException($"Expected a {k} draw, got {kind}.");
        return v;
    }

    public void Seed(long seed) => throw new NotSupportedException();

    public double Uniform(double low, double high) => Next("uniform");

    public int Integer(int low, int high) => (int)Next("integer");

    public int Choice(int n)
    {
        var v = (int)Next("choice");
        if (v < 0 || v >= n)
            throw new InvalidOperationException($"Scripted choice {v} is outside [0, {n}).");
        return v;
    }

    public double Random() => Next("random");
}
