using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using RLWorkbench.Routing.Core;
using RLWorkbench.Tracking;

namespace RLWorkbench.Routing.Learning;

/// <summary>A dense table of action values: one row per state (with a label), one column per action, all zero at the start.</summary>
public sealed class QTable
{
    // camelCase: the shape docs/run-format.md gives and the plots read ({ "states", "actions", "values" }).
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private readonly double[][] values;

    /// <summary>Where a Q-learning run saves its table (artifacts/); bandit runs save <see cref="BanditTableDocument.FileName"/>.</summary>
    public const string FileName = "qtable.json";

    public const string CsvFileName = "qtable.csv";

    public QTable(IReadOnlyList<string> states)
    {
        States = states;
        values = states.Select(_ => new double[RoutingAction.Count]).ToArray();
    }

    public IReadOnlyList<string> States { get; }

    /// <summary>The coordinator ("base", "load-balanced") that wrote the table, when its file says so (files before this field do not).</summary>
    public string? Learner { get; private init; }

    /// <summary>The algorithm ("q-learning", "ucb1", "thompson") that wrote the table, when its file says so.</summary>
    public string? Algorithm { get; private init; }

    public int ActionCount => RoutingAction.Count;

    public double this[int state, int action]
    {
        get => values[state][action];
        set => values[state][action] = value;
    }

    public IReadOnlyList<double> Row(int state) => values[state];

    public int StateIndex(string state)
    {
        for (var i = 0; i < States.Count; i++)
        {
            if (States[i] == state)
                return i;
        }
        throw new RoutingInputException($"The Q-table has no state '{state}'.");
    }

    public QTableDocument ToDocument() => new(
        RoutingAction.All.Select(a => a.Label).ToArray(),
        States.ToArray(),
        values.Select(r => r.ToArray()).ToArray(),
        Learner,
        Algorithm);

    public string ToJson() => ToJson(ToDocument());

    public static string ToJson(QTableDocument document) => JsonSerializer.Serialize(document, Indented);

    public string ToCsv()
    {
        var sb = new StringBuilder("state," + string.Join(',', RoutingAction.All.Select(a => a.Label)) + "\n");
        for (var s = 0; s < States.Count; s++)
            sb.Append(States[s]).Append(',').AppendJoin(',', values[s].Select(v => v.ToString("R", CultureInfo.InvariantCulture))).Append('\n');
        return sb.ToString();
    }

    public static QTable FromJson(string json, string source) => FromDocument(ReadDocument(json, source), source);

    /// <summary>A Q-table file's document before its actions are checked: valid JSON with "actions", "states" and "values".</summary>
    public static QTableDocument ReadDocument(string json, string source)
    {
        QTableDocument? doc;
        try
        {
            doc = JsonSerializer.Deserialize<QTableDocument>(json, EmbeddedData.Json);
        }
        catch (JsonException e)
        {
            throw new RoutingInputException($"The Q-table {source} is not valid JSON ({JsonProblem.Describe(e)}).", e);
        }
        if (doc?.States is null || doc.Values is null || doc.Actions is null)
            throw new RoutingInputException($"The Q-table {source} needs \"actions\", \"states\" and \"values\".");
        if (doc.Algorithm is { } algorithm && !RoutingAlgorithms.All.Contains(algorithm))
            throw new RoutingInputException($"The Q-table {source} says it was written by '{algorithm}'; the learners are {string.Join(", ", RoutingAlgorithms.All)}.");
        // Bandit runs used to save their sample means here, without the counts a bandit learns from; they now save bandit.json.
        if (doc.Algorithm is { } bandit && RoutingAlgorithms.IsBandit(bandit))
            throw new RoutingInputException($"The Q-table {source} holds the sample means of a {bandit} run from before bandit tables kept their counts; route reads the artifacts/{BanditTableDocument.FileName} such a run writes now.");
        return doc;
    }

    /// <summary>One row of <paramref name="actions"/> finite values per state: what a Q-table of single steps or of chains must hold.</summary>
    internal static bool HasFiniteRows(QTableDocument doc, int actions) =>
        doc.Values.Length == doc.States.Length && doc.Values.All(r => r is not null && r.Length == actions && r.All(double.IsFinite));

    /// <summary>The seed's table of the eight single (agent, provider) actions; a chain table is <see cref="LearnedTable"/>'s to read.</summary>
    public static QTable FromDocument(QTableDocument doc, string source)
    {
        if (doc.Actions.Any(a => a is not null && a.Contains(RoutingChain.Separator)))
            throw new RoutingInputException($"The Q-table {source} routes chains (a qlearn --chains run), not the {RoutingAction.Count} single agent/provider actions.");
        if (!doc.Actions.SequenceEqual(RoutingAction.All.Select(a => a.Label)))
            throw new RoutingInputException($"The Q-table {source} has actions '{string.Join(",", doc.Actions)}', not the {RoutingAction.Count} agent/provider actions in agent-major order.");
        if (!HasFiniteRows(doc, RoutingAction.Count))
            throw new RoutingInputException($"The Q-table {source} needs one row of {RoutingAction.Count} finite values per state.");
        var table = new QTable(doc.States) { Learner = doc.Learner, Algorithm = doc.Algorithm };
        for (var s = 0; s < doc.States.Length; s++)
            doc.Values[s].CopyTo(table.values[s], 0);
        return table;
    }

    public static QTable Load(string path) =>
        File.Exists(path) ? FromJson(File.ReadAllText(path), path) : throw new RoutingInputException(InputFile.Missing("The Q-table file", path));
}

/// <summary>
/// A Q-table file. <paramref name="Learner"/> and <paramref name="Algorithm"/> record which coordinator and algorithm wrote
/// it, so `route --learn` can continue with the same learner (or refuse one it cannot continue); older files lack them.
/// </summary>
public sealed record QTableDocument(
    string[] Actions,
    string[] States,
    double[][] Values,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Learner = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Algorithm = null);

/// <summary>
/// A bandit run's learned table (artifacts/bandit.json): pull counts and reward sums per (state, action), and which
/// coordinator and algorithm wrote them, so `route --learn` continues the same bandit exactly.
/// </summary>
public sealed record BanditTableDocument(string[] Actions, string[] States, long[][] Counts, double[][] Sums, string? Learner, string? Algorithm)
{
    public const string FileName = "bandit.json";

    public const string CsvFileName = "bandit.csv";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static string ToJson(BanditTableDocument document) => JsonSerializer.Serialize(document, Indented);
}

/// <summary>
/// A composed run's learned table (artifacts/composed.json): the settings it learned with and its whole posterior (inverse
/// precision, targets, means, pulls per state), so `route --learn` continues the same learner exactly. <paramref name="Values"/>
/// is each chain's posterior mean per state, a Q-table's shape for people and the heatmaps; it is derived, never read back.
/// </summary>
public sealed record ComposedTableDocument(string[] Actions, string[] States, double[][] Values, string? Learner, string? Algorithm, ComposedLearnerOptions Settings,
    ComposedSnapshot Posterior)
{
    public const string FileName = "composed.json";

    public const string CsvFileName = "composed.csv";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static string ToJson(ComposedTableDocument document) => JsonSerializer.Serialize(document, Indented);
}

/// <summary>
/// A learned table file as route reads it: its states, the coordinator and algorithm that wrote it, what its learner
/// restores, for a composed table the settings it learned with, and the chains its actions route to (null for the seed's
/// eight single (agent, provider) actions in index order).
/// </summary>
public sealed record LearnedTable(IReadOnlyList<string> States, string? Learner, string Algorithm, LearnerState State, ComposedLearnerOptions? Composed = null,
    IReadOnlyList<RoutingChain>? Chains = null)
{
    /// <summary>Reads a Q-table (qtable.json), a bandit table (bandit.json) or a composed table (composed.json), of single agents or of chains; each is refused with one sentence naming the file.</summary>
    public static LearnedTable Load(string path)
    {
        if (!File.Exists(path))
            throw new RoutingInputException(InputFile.Missing("The Q-table file", path));
        var json = File.ReadAllText(path);
        return KindOf(json) switch
        {
            TableKind.Composed => ComposedTable(json, path),
            TableKind.Bandit => Bandit(json, path),
            _ => QTableFile(json, path),
        };
    }

    public static LearnedTable FromQTable(QTable table) =>
        new(table.States, table.Learner, table.Algorithm ?? RoutingAlgorithms.QLearning, new LearnerState(0, table.ToDocument(), null));

    private static LearnedTable QTableFile(string json, string path)
    {
        var doc = QTable.ReadDocument(json, path);
        if (ChainsOf("Q-table", path, doc.Actions) is not { } chains)
            return FromQTable(QTable.FromDocument(doc, path));
        if (!QTable.HasFiniteRows(doc, chains.Count))
            throw new RoutingInputException($"The Q-table {path} needs one row of {chains.Count} finite values (one per chain) per state.");
        return new LearnedTable(doc.States, doc.Learner, doc.Algorithm ?? RoutingAlgorithms.QLearning, new LearnerState(0, doc, null), null, chains);
    }

    /// <summary>
    /// The chains a table's actions route to, parsed back from their labels in the table's order (the learner's action order);
    /// null when they are the seed's eight single steps in index order, so those tables load exactly as before chains.
    /// </summary>
    private static IReadOnlyList<RoutingChain>? ChainsOf(string what, string path, string?[] actions)
    {
        if (actions.SequenceEqual(RoutingAction.All.Select(a => a.Label)))
            return null;
        if (actions.Length == 0)
            throw new RoutingInputException($"The {what} {path} has no actions; each action is a chain such as researcher/openai>validator/anthropic.");
        var chains = new List<RoutingChain>(actions.Length);
        foreach (var label in actions)
        {
            if (string.IsNullOrWhiteSpace(label))
                throw new RoutingInputException($"The {what} {path} has an empty action; each action is a chain such as researcher/openai>validator/anthropic.");
            try
            {
                chains.Add(RoutingChain.Parse(label));
            }
            catch (RoutingInputException e)
            {
                throw new RoutingInputException($"The {what} {path} has the action '{label}', which is not a chain: {e.Message}", e);
            }
            // The coordinator names its actions by the chains' own labels; a label written otherwise would not match them back.
            if (chains[^1].Label != label)
                throw new RoutingInputException($"The {what} {path} has the action '{label}', which is not written as its chain's label '{chains[^1].Label}'.");
        }
        if (chains.GroupBy(c => c).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new RoutingInputException($"The {what} {path} lists the chain '{twice.Key.Label}' twice.");
        return chains;
    }

    private enum TableKind
    {
        QTable,
        Bandit,
        Composed,
    }

    /// <summary>Which table a file holds, by the property only that table has: a composed posterior, or a bandit's counts.</summary>
    private static TableKind KindOf(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                return TableKind.QTable;
            return doc.RootElement.TryGetProperty("posterior", out _) ? TableKind.Composed
                : doc.RootElement.TryGetProperty("counts", out _) ? TableKind.Bandit
                : TableKind.QTable;
        }
        catch (JsonException)
        {
            // Not JSON at all: the Q-table reader says so in its own words.
            return TableKind.QTable;
        }
    }

    private static LearnedTable Bandit(string json, string path)
    {
        BanditTableDocument? doc;
        try
        {
            doc = JsonSerializer.Deserialize<BanditTableDocument>(json, EmbeddedData.Json);
        }
        catch (JsonException e)
        {
            throw new RoutingInputException($"The bandit table {path} is not valid JSON ({JsonProblem.Describe(e)}).", e);
        }
        if (doc?.States is null || doc.Counts is null || doc.Sums is null || doc.Actions is null || doc.Algorithm is null)
            throw new RoutingInputException($"The bandit table {path} needs \"actions\", \"states\", \"counts\", \"sums\" and \"algorithm\".");
        if (!RoutingAlgorithms.IsBandit(doc.Algorithm))
            throw new RoutingInputException($"The bandit table {path} says it was written by '{doc.Algorithm}'; the bandits are {RoutingAlgorithms.Ucb1} and {RoutingAlgorithms.Thompson}.");
        var chains = ChainsOf("bandit table", path, doc.Actions);
        if (doc.Counts.Length != doc.States.Length || doc.Sums.Length != doc.States.Length)
            throw new RoutingInputException($"The bandit table {path} needs one row of counts and one of sums per state.");
        return new LearnedTable(doc.States, doc.Learner, doc.Algorithm, new LearnerState(0, null, new SampleMeanSnapshot(doc.Algorithm, doc.Counts, doc.Sums)), null, chains);
    }

    /// <summary>
    /// A composed table continues in route over the single steps or the chains it learned; the posterior itself is checked
    /// against the learner (its components follow from the chains) when it is restored.
    /// </summary>
    private static LearnedTable ComposedTable(string json, string path)
    {
        ComposedTableDocument? doc;
        try
        {
            doc = JsonSerializer.Deserialize<ComposedTableDocument>(json, EmbeddedData.Json);
        }
        catch (JsonException e)
        {
            throw new RoutingInputException($"The composed table {path} is not valid JSON ({JsonProblem.Describe(e)}).", e);
        }
        if (doc?.States is null || doc.Actions is null || doc.Settings is null || doc.Posterior is null || doc.Algorithm is null)
            throw new RoutingInputException($"The composed table {path} needs \"actions\", \"states\", \"algorithm\", \"settings\" and \"posterior\".");
        if (doc.Algorithm != RoutingAlgorithms.Composed)
            throw new RoutingInputException($"The composed table {path} says it was written by '{doc.Algorithm}', not {RoutingAlgorithms.Composed}.");
        var chains = ChainsOf("composed table", path, doc.Actions);
        if (doc.Settings.Problem() is { } problem)
            throw new RoutingInputException($"The composed table {path} has unusable settings: {problem}");
        return new LearnedTable(doc.States, doc.Learner, doc.Algorithm, new LearnerState(0, null, null, doc.Posterior), doc.Settings, chains);
    }
}
