namespace RLWorkbench.Gym.Random;

/// <summary>
/// Every random number an environment uses, in the four kinds of draw the golden traces record.
/// Passing the source in (never a static generator) is what lets a trace be replayed exactly.
/// </summary>
public interface IRandomSource
{
    /// <summary>Restarts the stream from a seed.</summary>
    void Seed(long seed);

    /// <summary>A real in [low, high).</summary>
    double Uniform(double low, double high);

    /// <summary>An integer in [low, high).</summary>
    int Integer(int low, int high);

    /// <summary>An index in [0, n).</summary>
    int Choice(int n);

    /// <summary>A real in [0, 1).</summary>
    double Random();
}

public enum DrawKind
{
    Uniform,
    Integer,
    Choice,
    Random,
}

/// <summary>One recorded call on a random source: its kind, its arguments and the value it returned.</summary>
public sealed record RandomDraw(DrawKind Kind, double[] Args, double Value)
{
    public static string KindName(DrawKind kind) => kind switch
    {
        DrawKind.Uniform => "uniform",
        DrawKind.Integer => "integer",
        DrawKind.Choice => "choice",
        DrawKind.Random => "random",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static bool TryParseKind(string name, out DrawKind kind)
    {
        switch (name)
        {
            case "uniform": kind = DrawKind.Uniform; return true;
            case "integer": kind = DrawKind.Integer; return true;
            case "choice": kind = DrawKind.Choice; return true;
            case "random": kind = DrawKind.Random; return true;
            default: kind = default; return false;
        }
    }

    public override string ToString() =>
        $"{KindName(Kind)}({string.Join(", ", Args.Select(a => a.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}) = {Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}";
}
