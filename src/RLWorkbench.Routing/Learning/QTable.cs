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

    /// <summary>First index on ties, like numpy's argmax, so an untrained row picks researcher/openai.</summary>
    public int ArgMax(int state)
    {
        var row = values[state];
        var best = 0;
        for (var a = 1; a < row.Length; a++)
        {
            if (row[a] > row[best])
                best = a;
        }
        return best;
    }

    public double Max(int state) => values[state].Max();

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

    public static QTable FromJson(string json, string source)
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
        if (!doc.Actions.SequenceEqual(RoutingAction.All.Select(a => a.Label)))
            throw new RoutingInputException($"The Q-table {source} has actions '{string.Join(",", doc.Actions)}', not the {RoutingAction.Count} agent/provider actions in agent-major order.");
        if (doc.Values.Length != doc.States.Length || doc.Values.Any(r => r is null || r.Length != RoutingAction.Count || r.Any(v => !double.IsFinite(v))))
            throw new RoutingInputException($"The Q-table {source} needs one row of {RoutingAction.Count} finite values per state.");
        if (doc.Algorithm is { } algorithm && !RoutingAlgorithms.All.Contains(algorithm))
            throw new RoutingInputException($"The Q-table {source} says it was written by '{algorithm}'; the learners are {string.Join(", ", RoutingAlgorithms.All)}.");
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
