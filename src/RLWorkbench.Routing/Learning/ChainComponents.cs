using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Learning;

/// <summary>
/// The components a chain's value is composed of: its first step (agent, provider), and each refinement at position k >= 2
/// as (k, handing agent, receiving agent, receiving provider); with pairs, also each handoff's ordered agent pair alone
/// (shared across positions and providers: the pairwise collaboration table as features). Only components that occur in
/// some offered chain get an index, so the count follows the problem: 8 + 24 + 24 = 56 for every chain up to three steps
/// (68 with pairs), against 248 chains.
/// </summary>
public sealed class ChainComponents
{
    public ChainComponents(IReadOnlyList<RoutingChain> chains, bool withPairs)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var labels = new List<string>();
        int Of(string key)
        {
            if (!index.TryGetValue(key, out var i))
            {
                i = labels.Count;
                index[key] = i;
                labels.Add(key);
            }
            return i;
        }
        Features = chains.Select(chain =>
        {
            var f = new List<int> { Of($"first {chain.First.Label}") };
            for (var k = 1; k < chain.Length; k++)
            {
                var (from, to) = (chain.Steps[k - 1], chain.Steps[k]);
                f.Add(Of($"step {k + 1} {from.Agent.Name()}>{to.Label}"));
                if (withPairs)
                    f.Add(Of($"pair {from.Agent.Name()}>{to.Agent.Name()}"));
            }
            return f.ToArray();
        }).ToArray();
        Labels = labels;
    }

    /// <summary>Per chain, the indices of its components (each counted once: a chain has no agent twice).</summary>
    public int[][] Features { get; }

    public IReadOnlyList<string> Labels { get; }

    public int Count => Labels.Count;
}
