namespace RLWorkbench.Routing.Core;

/// <summary>The four agent roles, in the seed's agent order (the order actions and ties use).</summary>
public enum AgentRole
{
    Researcher,
    Analyst,
    Coder,
    Validator,
}

/// <summary>
/// A chat provider, by its position in <see cref="ProviderRegistry.Entries"/>: everything else about it (name, key and
/// base-URL variables, default model, client factory, rate-limit header family) is its registry entry, so adding a provider
/// is one entry there. <see cref="OpenAI"/> and <see cref="Anthropic"/> name the two built-in entries for code and tests
/// that mean them; "openai" also covers any OpenAI-compatible server reached by base URL.
/// </summary>
public readonly record struct Provider : IComparable<Provider>
{
    internal Provider(int id) => Id = id;

    /// <summary>The entry's position in the registry: the order actions are agent-major over.</summary>
    public int Id { get; }

    public static Provider OpenAI => ProviderRegistry.Named("openai");

    public static Provider Anthropic => ProviderRegistry.Named("anthropic");

    /// <summary>Registry order, as the enum this replaced sorted.</summary>
    public int CompareTo(Provider other) => Id.CompareTo(other.Id);

    public static bool operator <(Provider left, Provider right) => left.Id < right.Id;

    public static bool operator <=(Provider left, Provider right) => left.Id <= right.Id;

    public static bool operator >(Provider left, Provider right) => left.Id > right.Id;

    public static bool operator >=(Provider left, Provider right) => left.Id >= right.Id;

    public override string ToString() => ProviderRegistry.Of(this).Name;
}

/// <summary>Task types in alphabetical order, because that is the order of the Q-table rows.</summary>
public enum TaskType
{
    Analysis,
    Coding,
    Research,
    Validation,
}

/// <summary>The lower-case names used in files, on the command line and in reports.</summary>
public static class RoutingNames
{
    public static IReadOnlyList<AgentRole> Agents { get; } = [AgentRole.Researcher, AgentRole.Analyst, AgentRole.Coder, AgentRole.Validator];

    public static IReadOnlyList<Provider> Providers => ProviderRegistry.All;

    public static IReadOnlyList<TaskType> TaskTypes { get; } = [TaskType.Analysis, TaskType.Coding, TaskType.Research, TaskType.Validation];

    public static string Name(this AgentRole role) => role switch
    {
        AgentRole.Researcher => "researcher",
        AgentRole.Analyst => "analyst",
        AgentRole.Coder => "coder",
        AgentRole.Validator => "validator",
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    public static string Name(this Provider provider) => ProviderRegistry.Of(provider).Name;

    public static string Name(this TaskType type) => type switch
    {
        TaskType.Analysis => "analysis",
        TaskType.Coding => "coding",
        TaskType.Research => "research",
        TaskType.Validation => "validation",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public static AgentRole ParseAgent(string name) =>
        Find(Agents, name, Name) ?? throw new RoutingInputException($"Unknown agent '{name}'; the agents are {string.Join(", ", Agents.Select(x => x.Name()))}.");

    public static Provider ParseProvider(string name) =>
        Find(Providers, name, Name) ?? throw new RoutingInputException($"Unknown provider '{name}'; the providers are {string.Join(", ", Providers.Select(x => x.Name()))}.");

    public static TaskType ParseTaskType(string name) =>
        Find(TaskTypes, name, Name) ?? throw new RoutingInputException($"Unknown task type '{name}'; the task types are {string.Join(", ", TaskTypes.Select(x => x.Name()))}.");

    private static T? Find<T>(IReadOnlyList<T> values, string name, Func<T, string> nameOf)
        where T : struct
    {
        foreach (var v in values)
        {
            if (string.Equals(nameOf(v), name.Trim(), StringComparison.OrdinalIgnoreCase))
                return v;
        }
        return null;
    }
}

/// <summary>
/// One (agent, provider) pair. Index is agent-major over the registered providers: with the two built-in ones
/// researcher/openai = 0, researcher/anthropic = 1, ... validator/anthropic = 7.
/// </summary>
public readonly record struct RoutingAction(AgentRole Agent, Provider Provider)
{
    public static int Count { get; } = RoutingNames.Agents.Count * RoutingNames.Providers.Count;

    public int Index => (int)Agent * RoutingNames.Providers.Count + Provider.Id;

    public static RoutingAction FromIndex(int index) =>
        index >= 0 && index < Count
            ? new RoutingAction((AgentRole)(index / RoutingNames.Providers.Count), RoutingNames.Providers[index % RoutingNames.Providers.Count])
            : throw new ArgumentOutOfRangeException(nameof(index), $"An action index is 0..{Count - 1}, not {index}.");

    public static IReadOnlyList<RoutingAction> All { get; } = Enumerable.Range(0, Count).Select(FromIndex).ToArray();

    public string Label => $"{Agent.Name()}/{Provider.Name()}";

    public override string ToString() => Label;
}

/// <summary>Bad input from a user (a name, a file, a number): the command reports the message and exits with code 2.</summary>
public sealed class RoutingInputException(string message, Exception? inner = null) : Exception(message, inner);
