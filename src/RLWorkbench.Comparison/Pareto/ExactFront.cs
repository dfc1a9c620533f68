namespace RLWorkbench.Comparison.Pareto;

/// <summary>One deterministic per-type policy of the simulated problem and what it achieves.</summary>
public sealed record TablePoint(int[] ActionPerType, PolicyObjectives Objectives);

/// <summary>
/// The exact trade-offs of the simulated base problem: every deterministic per-type policy (ActionCount ^ occurring types of
/// them, 8^4 = 4,096 on the default problem; a type the bank never draws keeps action 0), valued exactly by
/// <see cref="ObjectiveModel"/>, and their Pareto fronts in the (cost, quality) and (p95 latency, quality) planes. Mixing
/// policies at random is not counted: a mixture's quality and cost are on the segment between its parts, but its p95 latency
/// is not, and a router deploys one table. The ratio of a set's hypervolume to the front's, against the same reference
/// (<see cref="Reference"/>), says how much of the achievable trade-off the set covers.
/// </summary>
public sealed class ExactFront
{
    public ExactFront(ObjectiveModel objectives)
    {
        var problem = objectives.Problem;
        var n = problem.ActionCount;
        var occurring = Enumerable.Range(0, RoutingProblem.TypeCount).Where(t => problem.TypeProbabilities[t] > 0).ToArray();
        var count = (int)Math.Pow(n, occurring.Length);
        var all = new TablePoint[count];
        for (var code = 0; code < count; code++)
        {
            var table = new int[RoutingProblem.TypeCount];
            var rest = code;
            foreach (var t in occurring)
            {
                table[t] = rest % n;
                rest /= n;
            }
            all[code] = new TablePoint(table, objectives.Of(TaskPolicy.FromTypeTable(problem, table)));
        }
        Policies = all;
        CostFront = ParetoFront.Of(all.Select(CostPoint));
        LatencyFront = ParetoFront.Of(all.Select(LatencyPoint));
        CostReference = Reference(CostFront);
        LatencyReference = Reference(LatencyFront);
        CostHypervolume = ParetoFront.Hypervolume(CostFront, CostReference);
        LatencyHypervolume = ParetoFront.Hypervolume(LatencyFront, LatencyReference);
    }

    /// <summary>Share of each objective's range along the front by which the reference lies beyond the front's worst values.</summary>
    public const double ReferenceMargin = 0.1;

    public IReadOnlyList<TablePoint> Policies { get; }

    /// <summary>The (cost, quality) plane's reference: the front's nadir (its highest cost, its lowest quality) moved out by <see cref="ReferenceMargin"/> of the front's range.</summary>
    public TradeOffPoint CostReference { get; }

    /// <summary>The (p95 latency, quality) plane's reference, built the same way from that plane's front.</summary>
    public TradeOffPoint LatencyReference { get; }

    /// <summary>
    /// The nadir of the front pushed out by a tenth of its range (a usual convention): every efficient policy, the extremes
    /// included, then encloses some area, while the policies far below the front (wrong agents: quality near 0.5) enclose none,
    /// so the ratio measures the trade-off region rather than the distance from the worst policy.
    /// </summary>
    private static TradeOffPoint Reference(IReadOnlyList<TradeOffPoint> front)
    {
        var (lowCost, highCost) = (front[0].Cost, front[^1].Cost);
        var (lowQuality, highQuality) = (front[0].Quality, front[^1].Quality);
        return new TradeOffPoint(highCost + ReferenceMargin * (highCost - lowCost), lowQuality - ReferenceMargin * (highQuality - lowQuality));
    }

    public IReadOnlyList<TradeOffPoint> CostFront { get; }

    public IReadOnlyList<TradeOffPoint> LatencyFront { get; }

    public double CostHypervolume { get; }

    public double LatencyHypervolume { get; }

    public static TradeOffPoint CostPoint(TablePoint p) => CostPoint(p.Objectives);

    public static TradeOffPoint LatencyPoint(TablePoint p) => LatencyPoint(p.Objectives);

    public static TradeOffPoint CostPoint(PolicyObjectives o) => new(o.CostUsd, o.Quality);

    public static TradeOffPoint LatencyPoint(PolicyObjectives o) => new(o.P95LatencySeconds, o.Quality);

    /// <summary>Share of the exact (cost, quality) front's hypervolume that these policies' points cover; NaN when the exact front has none (one policy is best on both).</summary>
    public double CostRatio(IEnumerable<PolicyObjectives> points) => Ratio(ParetoFront.Hypervolume(points.Select(CostPoint), CostReference), CostHypervolume);

    /// <summary>Share of the exact (p95 latency, quality) front's hypervolume that these policies' points cover; NaN when the exact front has none.</summary>
    public double LatencyRatio(IEnumerable<PolicyObjectives> points) => Ratio(ParetoFront.Hypervolume(points.Select(LatencyPoint), LatencyReference), LatencyHypervolume);

    private static double Ratio(double covered, double exact) => exact > 0 ? covered / exact : double.NaN;
}
