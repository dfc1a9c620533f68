namespace RLWorkbench.Routing.Core;

/// <summary>
/// An ordered chain of one to <see cref="ChainOptions.MaxAllowedLength"/> steps, each an (agent, provider) pair, with no agent
/// twice: the task goes to the first step, each later step gets the task and the previous step's answer, and the judge scores
/// the last answer. A chain of one step is the seed's single (agent, provider) action. Written "researcher/openai>analyst/anthropic".
/// </summary>
public sealed class RoutingChain : IEquatable<RoutingChain>
{
    public const char Separator = '>';

    private RoutingChain(RoutingAction[] steps)
    {
        Steps = steps;
        Label = string.Join(Separator, steps.Select(s => s.Label));
    }

    public IReadOnlyList<RoutingAction> Steps { get; }

    public int Length => Steps.Count;

    public RoutingAction First => Steps[0];

    public RoutingAction Last => Steps[^1];

    public string Label { get; }

    /// <summary>The ordered agent pairs (step k-1, step k) the chain hands work across; empty for a single step.</summary>
    public IEnumerable<(AgentRole From, AgentRole To)> Handoffs()
    {
        for (var k = 1; k < Steps.Count; k++)
            yield return (Steps[k - 1].Agent, Steps[k].Agent);
    }

    public static RoutingChain Single(RoutingAction action) => new([action]);

    /// <summary>A chain from its steps; one sentence naming the chain when an agent repeats or it is longer than allowed.</summary>
    public static RoutingChain Of(IReadOnlyList<RoutingAction> steps, int maxLength = ChainOptions.MaxAllowedLength)
    {
        var label = string.Join(Separator, steps.Select(s => s.Label));
        if (steps.Count == 0)
            throw new RoutingInputException("A chain needs at least one step (agent/provider).");
        if (steps.Count > maxLength)
            throw new RoutingInputException($"The chain '{label}' has {steps.Count} steps; chains may have at most {maxLength}.");
        var repeated = steps.GroupBy(s => s.Agent).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null)
            throw new RoutingInputException($"The chain '{label}' uses the {repeated.Key.Name()} agent twice; each agent appears at most once in a chain.");
        return new RoutingChain(steps.ToArray());
    }

    /// <summary>Parses "agent/provider>agent/provider>..."; unknown agents or providers, repeats and overlong chains are one sentence each.</summary>
    public static RoutingChain Parse(string text, int maxLength = ChainOptions.MaxAllowedLength)
    {
        var parts = text.Split(Separator, StringSplitOptions.TrimEntries);
        var steps = new List<RoutingAction>();
        foreach (var part in parts)
        {
            var pair = part.Split('/', StringSplitOptions.TrimEntries);
            if (pair.Length != 2 || pair[0].Length == 0 || pair[1].Length == 0)
                throw new RoutingInputException($"The chain '{text}' has a step '{part}' that is not agent/provider (for example researcher/openai>validator/anthropic).");
            steps.Add(new RoutingAction(RoutingNames.ParseAgent(pair[0]), RoutingNames.ParseProvider(pair[1])));
        }
        return Of(steps, maxLength);
    }

    public bool Equals(RoutingChain? other) => other is not null && other.Label == Label;

    public override bool Equals(object? obj) => Equals(obj as RoutingChain);

    public override int GetHashCode() => Label.GetHashCode(StringComparison.Ordinal);

    public override string ToString() => Label;
}

/// <summary>
/// Which chains a run may route to: every chain of distinct agents up to <see cref="MaxLength"/> steps, or an explicit list.
/// The default (max length 1) is the seed's single-agent action space.
/// </summary>
public sealed record ChainOptions
{
    /// <summary>Longer chains multiply the action space (4 agents x 2 providers: 8, 56, 248 chains up to 1, 2, 3 steps).</summary>
    public const int MaxAllowedLength = 3;

    public int MaxLength { get; init; } = 1;

    /// <summary>Chain labels ("researcher/openai>analyst/anthropic"); null or empty means every chain up to MaxLength.</summary>
    public IReadOnlyList<string>? Allowed { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public bool RoutesChains => MaxLength > 1 || Allowed is { Count: > 0 } list && list.Any(l => l.Contains(RoutingChain.Separator));

    /// <summary>The chains on offer, in a fixed order: by length, then agent-major, then provider (single steps in action-index order).</summary>
    public IReadOnlyList<RoutingChain> Enumerate()
    {
        if (MaxLength is < 1 or > MaxAllowedLength)
            throw new RoutingInputException($"The longest chain must be 1 to {MaxAllowedLength} steps, not {MaxLength}.");
        if (Allowed is { Count: > 0 } allowed)
        {
            var chains = allowed.Select(l => RoutingChain.Parse(l, MaxLength)).ToArray();
            var twice = chains.GroupBy(c => c).FirstOrDefault(g => g.Count() > 1);
            if (twice is not null)
                throw new RoutingInputException($"The allowed chains list '{twice.Key.Label}' twice.");
            return chains;
        }
        var all = new List<RoutingChain>();
        var current = new List<RoutingAction>();
        for (var length = 1; length <= MaxLength; length++)
            Extend(length, current, all);
        return all;
    }

    private static void Extend(int length, List<RoutingAction> current, List<RoutingChain> into)
    {
        if (current.Count == length)
        {
            into.Add(RoutingChain.Of(current.ToArray()));
            return;
        }
        foreach (var action in RoutingAction.All)
        {
            if (current.Any(s => s.Agent == action.Agent))
                continue;
            current.Add(action);
            Extend(length, current, into);
            current.RemoveAt(current.Count - 1);
        }
    }
}
