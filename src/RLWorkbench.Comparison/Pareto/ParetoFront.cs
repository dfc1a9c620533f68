namespace RLWorkbench.Comparison.Pareto;

/// <summary>A point in one plane of the trade-off: quality (higher is better) against a cost (lower is better: USD or seconds).</summary>
public readonly record struct TradeOffPoint(double Cost, double Quality);

/// <summary>
/// Pareto fronts and hypervolume in a two-objective plane where quality is maximised and cost minimised. The hypervolume of a
/// set of points is the area of everything they dominate inside the box bounded by the reference point (a quality no policy
/// is below, a cost no policy is above); a point outside that box adds nothing.
/// </summary>
public static class ParetoFront
{
    /// <summary>The non-dominated points, cheapest first (so quality rises along the front); of equal points one is kept.</summary>
    public static IReadOnlyList<TradeOffPoint> Of(IEnumerable<TradeOffPoint> points)
    {
        var front = new List<TradeOffPoint>();
        foreach (var p in points.OrderBy(p => p.Cost).ThenByDescending(p => p.Quality))
        {
            if (front.Count == 0 || p.Quality > front[^1].Quality)
                front.Add(p);
        }
        return front;
    }

    /// <summary>The area the points dominate between them and <paramref name="reference"/> (its cost the right edge, its quality the floor).</summary>
    public static double Hypervolume(IEnumerable<TradeOffPoint> points, TradeOffPoint reference)
    {
        var front = Of(points.Where(p => p.Cost < reference.Cost && p.Quality > reference.Quality));
        double area = 0;
        for (var i = 0; i < front.Count; i++)
        {
            var right = i + 1 < front.Count ? front[i + 1].Cost : reference.Cost;
            area += (right - front[i].Cost) * (front[i].Quality - reference.Quality);
        }
        return area;
    }
}
