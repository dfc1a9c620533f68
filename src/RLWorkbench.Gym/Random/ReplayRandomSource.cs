namespace RLWorkbench.Gym.Random;

/// <summary>
/// Answers each call with the next recorded draw and fails as soon as a call's kind or arguments
/// differ from the record, so a replay proves the environment draws in exactly the recorded order.
/// </summary>
public sealed class ReplayRandomSource : IRandomSource
{
    private readonly List<RandomDraw> draws = [];
    private int next;

    /// <summary>Draws queued but not yet consumed.</summary>
    public int Remaining => draws.Count - next;

    /// <summary>Queues the draws the next reset or step is expected to make.</summary>
    public void Enqueue(IEnumerable<RandomDraw> recorded) => draws.AddRange(recorded);

    /// <summary>Throws if a recorded draw was not consumed.</summary>
    public void ExpectExhausted(string where)
    {
        if (Remaining > 0)
            throw new RandomReplayException($"{where}: the environment made fewer draws than recorded; next unused draw is {draws[next]}.");
    }

    public void Seed(long seed)
    {
        // A replay's numbers come from the record, whatever the seed.
    }

    public double Uniform(double low, double high) => Take(DrawKind.Uniform, low, high);

    public int Integer(int low, int high) => (int)Take(DrawKind.Integer, low, high);

    public int Choice(int n) => (int)Take(DrawKind.Choice, n);

    public double Random() => Take(DrawKind.Random);

    private double Take(DrawKind kind, params double[] args)
    {
        var call = new RandomDraw(kind, args, double.NaN);
        if (next >= draws.Count)
            throw new RandomReplayException($"the environment made an extra draw {Describe(call)} after the recorded ones ran out.");
        var expected = draws[next];
        if (expected.Kind != kind || !SameArgs(expected.Args, args))
            throw new RandomReplayException($"draw {next + 1}: the environment called {Describe(call)} but the record has {expected}.");
        next++;
        return expected.Value;
    }

    private static bool SameArgs(double[] a, double[] b)
    {
        if (a.Length != b.Length)
            return false;
        for (var i = 0; i < a.Length; i++)
        {
            if (Math.Abs(a[i] - b[i]) > 1e-12 * Math.Max(1, Math.Abs(a[i])))
                return false;
        }
        return true;
    }

    private static string Describe(RandomDraw call) =>
        $"{RandomDraw.KindName(call.Kind)}({string.Join(", ", call.Args.Select(a => a.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))})";
}

public sealed class RandomReplayException(string message) : Exception(message);
