namespace RLWorkbench.Comparison.Pareto;

/// <summary>One deterministic per-type policy of the simulated problem and what it achieves.</summary>
public sealed record TablePoint(int[] ActionPerType, PolicyObjectives Objectives);

/// <summary>
/// The exact trade-offs of the simulated base problem: every deterministic per-type policy (ActionCount ^ occurring types of
/// them, 8^4 = 4,096 on the default problem; a type the bank never draws keeps action 0), valued exactly by
/// <see cref="ObjectiveModel"/>, and their Pareto fronts in the (cost, quality) and (p95 latency, quality) planes. Mixing
/// policies at random is not counted: a mixture's quality and cost are on the segment between its parts, but its p95 latency
/// is not, and a router deploys one table. The reference point of each plane is the worst of all these policies on both
/// objectives (lowest quality, highest cost or p95 latency), so every policy lies inside the box and the ratio of two
/// hypervolumes says how much of what is achievable a set of policies covers.
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
        CostReference = new TradeOffPoint(all.Max(p => p.Objectives.CostUsd), all.Min(p => p.Objectives.Quality));
        LatencyReference = new TradeOffPoint(all.Max(p => p.Objectives.P95LatencySeconds), CostReference.Quality);
        CostFront = ParetoFront.Of(all.Select(CostPoint));
        LatencyFront = ParetoFront.Of(all.Select(LatencyPoint));
        CostHypervolume = ParetoFront.Hypervolume(CostFront, CostReference);
        LatencyHypervolume = ParetoFront.Hypervolume(LatencyFront, LatencyReference);
    }

    public IReadOnlyList<TablePoint> Policies { get; }

    /// <summary>(highest cost per task of any policy, lowest quality of any policy).</summary>
    public TradeOffPoint CostReference { get; }

    /// <summary>(highest p95 latency of any policy, lowest quality of any policy).</summary>
    public TradeOffPoint LatencyReference { get; }

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
