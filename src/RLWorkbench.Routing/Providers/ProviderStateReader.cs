using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Providers;

/// <summary>
/// The providers' bucketed health as a part of a tabular learner's state: one label per joint state of every registered
/// provider (16 each, so 256 for two), in <see cref="HealthBuckets.JointIndex"/> order, and the label of the health now,
/// read from <paramref name="snapshot"/> (a board's <see cref="ProviderHealthBoard.Snapshot"/>).
/// </summary>
public sealed class ProviderStateReader(Func<IReadOnlyList<ProviderHealthSnapshot>> snapshot, HealthBuckets buckets)
{
    /// <summary>Every joint label, index i being the joint state whose <see cref="HealthBuckets.JointIndex"/> is i.</summary>
    public static IReadOnlyList<string> Labels { get; } = BuildLabels();

    public HealthBuckets Buckets => buckets;

    /// <summary>The label of the providers' health now, e.g. "openai:ample/fast anthropic:low/normal".</summary>
    public string Current()
    {
        var snapshots = snapshot();
        return HealthBuckets.JointLabel(snapshots, snapshots.Select(buckets.Of).ToArray());
    }

    private static string[] BuildLabels()
    {
        var providers = RoutingNames.Providers;
        var count = (int)Math.Pow(ProviderHealthState.Count, providers.Count);
        var labels = new string[count];
        for (var i = 0; i < count; i++)
        {
            var parts = new string[providers.Count];
            var rest = i;
            for (var p = providers.Count - 1; p >= 0; p--)
            {
                parts[p] = $"{providers[p].Name()}:{ProviderHealthState.FromIndex(rest % ProviderHealthState.Count).Label}";
                rest /= ProviderHealthState.Count;
            }
            labels[i] = string.Join(" ", parts);
        }
        return labels;
    }
}
