using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Learning;

/// <summary>The load tracker's knobs; defaults are the seed's.</summary>
public sealed record LoadTrackerOptions
{
    /// <summary>How many recent assignments count toward utilisation.</summary>
    public int Window { get; init; } = 8;

    /// <summary>Below this many entries the window says too little, so the state is "balanced".</summary>
    public int MinimumEntries { get; init; } = 3;

    /// <summary>An agent is hot above this multiple of the fair share (1.5 x 1/4 = 0.375 for four agents).</summary>
    public double HotFactor { get; init; } = 1.5;

    /// <summary>Penalty per unit of utilisation above the fair share, relative to the fair share.</summary>
    public double PenaltyScale { get; init; } = 0.15;

    public double PenaltyCap { get; init; } = 0.20;
}

/// <summary>The five load states: balanced, then one "hot" state per agent in agent order.</summary>
public static class LoadStates
{
    public const string Balanced = "balanced";

    public static IReadOnlyList<string> All { get; } =
        [Balanced, .. RoutingNames.Agents.Select(a => a.Name() + "_hot")];

    public static int IndexOf(string state)
    {
        for (var i = 0; i < All.Count; i++)
        {
            if (All[i] == state)
                return i;
        }
        throw new ArgumentException($"Unknown load state '{state}'.", nameof(state));
    }
}

/// <summary>
/// Sliding window of the last assigned agents (agents, not providers: the load is on the role's work queue) plus
/// lifetime counts. Not thread-safe: the coordinator that owns it serialises access.
/// </summary>
public sealed class LoadTracker
{
    private readonly Queue<AgentRole> window = new();
    private readonly long[] lifetime = new long[RoutingNames.Agents.Count];

    public LoadTracker(LoadTrackerOptions options) => Options = options;

    public LoadTrackerOptions Options { get; }

    public double FairShare => 1.0 / RoutingNames.Agents.Count;

    public double HotThreshold => Options.HotFactor * FairShare;

    public IReadOnlyCollection<AgentRole> Window => window;

    public IReadOnlyList<long> LifetimeCounts => lifetime;

    public long LifetimeTotal => lifetime.Sum();

    /// <summary>The agent's share of the window; 0 for every agent while the window is empty.</summary>
    public double Utilisation(AgentRole agent) =>
        window.Count == 0 ? 0.0 : window.Count(a => a == agent) / (double)window.Count;

    public double[] Utilisations() => RoutingNames.Agents.Select(Utilisation).ToArray();

    /// <summary>"balanced" under the minimum entries; else the most-utilised agent (first in agent order on ties) is hot if above the threshold.</summary>
    public string LoadState
    {
        get
        {
            if (window.Count < Options.MinimumEntries)
                return LoadStates.Balanced;
            var utils = Utilisations();
            var top = 0;
            for (var i = 1; i < utils.Length; i++)
            {
                if (utils[i] > utils[top])
                    top = i;
            }
            return utils[top] > HotThreshold ? RoutingNames.Agents[top].Name() + "_hot" : LoadStates.Balanced;
        }
    }

    /// <summary>min(max(0, util / fair share - 1) x 0.15, 0.20), read before the assignment is recorded.</summary>
    public double Penalty(AgentRole agent) =>
        Math.Min(Math.Max(0.0, Utilisation(agent) / FairShare - 1.0) * Options.PenaltyScale, Options.PenaltyCap);

    /// <summary>Coefficient of variation of the utilisations: population std / mean, 0 when all are 0.</summary>
    public double Imbalance
    {
        get
        {
            var utils = Utilisations();
            var mean = utils.Average();
            if (mean == 0)
                return 0.0;
            var variance = utils.Select(u => (u - mean) * (u - mean)).Average();
            return Math.Sqrt(variance) / mean;
        }
    }

    public void Record(AgentRole agent)
    {
        window.Enqueue(agent);
        while (window.Count > Options.Window)
            window.Dequeue();
        lifetime[(int)agent]++;
    }

    public LoadTrackerSnapshot Snapshot() => new(window.Select(a => a.Name()).ToArray(), lifetime.ToArray());

    public void Restore(LoadTrackerSnapshot snapshot)
    {
        window.Clear();
        foreach (var a in snapshot.Window)
            window.Enqueue(RoutingNames.ParseAgent(a));
        if (snapshot.Lifetime.Length != lifetime.Length)
            throw new RoutingInputException("The saved load tracker has the wrong number of agents.");
        snapshot.Lifetime.CopyTo(lifetime, 0);
    }
}

public sealed record LoadTrackerSnapshot(string[] Window, long[] Lifetime);
