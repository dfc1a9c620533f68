using System.Globalization;
using System.Text.Json;
using RLWorkbench.Gym.Random;

namespace RLWorkbench.Simulation.Conformance;

/// <summary>One recorded episode of a golden-trace file (format rlworkbench-golden-trace/1).</summary>
public sealed record GoldenTrace(
    EnvironmentVariant Variant,
    ObservationLayout Layout,
    int ObservationSize,
    int Agents,
    IReadOnlyList<RandomDraw> ResetDraws,
    float[] ResetObservation,
    IReadOnlyList<GoldenStep> Steps)
{
    public string Describe() =>
        $"{TaskEnvironmentOptions.Name(Variant)}/{TaskEnvironmentOptions.Name(Layout)} ({Agents} agents, {Steps.Count} steps)";
}

public sealed record GoldenStep(
    float[] Action,
    IReadOnlyList<RandomDraw> Draws,
    float[] Observation,
    double Reward,
    bool Terminated,
    bool Truncated,
    IReadOnlyDictionary<string, double> Info);

/// <summary>A golden-trace file that cannot be read: the message names the file and the problem.</summary>
public sealed class TraceFormatException(string message) : Exception(message);

/// <summary>Reads golden-trace files, checking every field it needs so a bad file gets one clear sentence.</summary>
public static class GoldenTraceFile
{
    public const string Format = "rlworkbench-golden-trace/1";

    public static IReadOnlyList<GoldenTrace> Load(string path)
    {
        if (!File.Exists(path))
            throw new TraceFormatException($"Trace file '{path}' does not exist.");
        JsonDocument doc;
        try
        {
            using var stream = File.OpenRead(path);
            doc = JsonDocument.Parse(stream);
        }
        catch (JsonException e)
        {
            throw new TraceFormatException($"Trace file '{path}' is not valid JSON ({e.Message}).");
        }
        using (doc)
        {
            return Parse(doc.RootElement, path);
        }
    }

    public static IReadOnlyList<GoldenTrace> Parse(JsonElement root, string source)
    {
        var reader = new Reader(source);
        if (root.ValueKind != JsonValueKind.Object)
            throw reader.Error("the top level", "an object with \"format\" and \"traces\"");
        var format = reader.String(root, "format", "the top level");
        if (format != Format)
            throw new TraceFormatException($"Trace file '{source}' has format '{format}'; this workbench reads '{Format}'.");
        var traces = reader.Array(root, "traces", "the top level");
        var result = new List<GoldenTrace>();
        var index = 0;
        foreach (var t in traces.EnumerateArray())
        {
            index++;
            result.Add(ParseTrace(t, $"trace {index}", reader));
        }
        if (result.Count == 0)
            throw new TraceFormatException($"Trace file '{source}' holds no traces.");
        return result;
    }

    private static GoldenTrace ParseTrace(JsonElement t, string where, Reader reader)
    {
        EnvironmentVariant variant;
        ObservationLayout layout;
        try
        {
            variant = TaskEnvironmentOptions.ParseVariant(reader.String(t, "variant", where));
            layout = TaskEnvironmentOptions.ParseLayout(reader.String(t, "layout", where));
        }
        catch (ArgumentException e)
        {
            throw new TraceFormatException($"Trace file '{reader.Source}', {where}: {e.Message}");
        }
        var obsDim = reader.Int(t, "obs_dim", where);
        var agents = t.TryGetProperty("n_agents", out var n) ? reader.IntValue(n, "n_agents", where) : AgentsFor(layout, obsDim, where, reader);
        if (ObservationEncoder.SizeFor(layout, agents) != obsDim)
            throw new TraceFormatException($"Trace file '{reader.Source}', {where}: obs_dim {obsDim} does not fit layout {TaskEnvironmentOptions.Name(layout)} with {agents} agents.");

        var reset = reader.Object(t, "reset", where);
        var resetDraws = reader.Draws(reset, $"{where}, reset");
        var resetObs = reader.Floats(reset, "obs", $"{where}, reset", obsDim);
        var steps = new List<GoldenStep>();
        var k = 0;
        foreach (var s in reader.Array(t, "steps", where).EnumerateArray())
        {
            k++;
            var at = $"{where}, step {k}";
            var info = new Dictionary<string, double>(StringComparer.Ordinal);
            if (s.TryGetProperty("info", out var infoElement) && infoElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in infoElement.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.Number)
                        info[p.Name] = p.Value.GetDouble();
                }
            }
            steps.Add(new GoldenStep(
                reader.Floats(s, "action", at, 3 * agents),
                reader.Draws(s, at),
                reader.Floats(s, "obs", at, obsDim),
                reader.Double(s, "reward", at),
                reader.Bool(s, "terminated", at),
                reader.Bool(s, "truncated", at),
                info));
        }
        return new GoldenTrace(variant, layout, obsDim, agents, resetDraws, resetObs, steps);
    }

    private static int AgentsFor(ObservationLayout layout, int obsDim, string where, Reader reader)
    {
        for (var agents = TaskEnvironmentOptions.MinAgents; agents <= TaskEnvironmentOptions.MaxAgents; agents++)
        {
            if (ObservationEncoder.SizeFor(layout, agents) == obsDim)
                return agents;
        }
        throw new TraceFormatException($"Trace file '{reader.Source}', {where}: obs_dim {obsDim} matches no agent count from {TaskEnvironmentOptions.MinAgents} to {TaskEnvironmentOptions.MaxAgents} in layout {TaskEnvironmentOptions.Name(layout)}.");
    }

    private sealed class Reader(string source)
    {
        public string Source => source;

        public TraceFormatException Error(string where, string expected) =>
            new($"Trace file '{source}', {where}: expected {expected}.");

        private JsonElement Get(JsonElement e, string name, string where)
        {
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(name, out var v))
                throw new TraceFormatException($"Trace file '{source}', {where}: the field \"{name}\" is missing.");
            return v;
        }

        public string String(JsonElement e, string name, string where)
        {
            var v = Get(e, name, where);
            return v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Error($"{where}, \"{name}\"", "a string");
        }

        public JsonElement Array(JsonElement e, string name, string where)
        {
            var v = Get(e, name, where);
            return v.ValueKind == JsonValueKind.Array ? v : throw Error($"{where}, \"{name}\"", "an array");
        }

        public JsonElement Object(JsonElement e, string name, string where)
        {
            var v = Get(e, name, where);
            return v.ValueKind == JsonValueKind.Object ? v : throw Error($"{where}, \"{name}\"", "an object");
        }

        public int Int(JsonElement e, string name, string where) => IntValue(Get(e, name, where), name, where);

        public int IntValue(JsonElement v, string name, string where) =>
            v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : throw Error($"{where}, \"{name}\"", "an integer");

        public double Double(JsonElement e, string name, string where)
        {
            var v = Get(e, name, where);
            return v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Error($"{where}, \"{name}\"", "a number");
        }

        public bool Bool(JsonElement e, string name, string where)
        {
            var v = Get(e, name, where);
            return v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error($"{where}, \"{name}\"", "true or false"),
            };
        }

        public float[] Floats(JsonElement e, string name, string where, int length)
        {
            var v = Array(e, name, where);
            if (v.GetArrayLength() != length)
                throw new TraceFormatException($"Trace file '{source}', {where}: \"{name}\" has {v.GetArrayLength()} values, expected {length}.");
            var result = new float[length];
            var i = 0;
            foreach (var x in v.EnumerateArray())
            {
                result[i++] = x.ValueKind == JsonValueKind.Number
                    ? (float)x.GetDouble()
                    : throw Error($"{where}, \"{name}\"[{i}]", "a number");
            }
            return result;
        }

        public List<RandomDraw> Draws(JsonElement e, string where)
        {
            var list = new List<RandomDraw>();
            var i = 0;
            foreach (var d in Array(e, "draws", where).EnumerateArray())
            {
                i++;
                var at = $"{where}, draw {i}";
                if (d.ValueKind != JsonValueKind.Array || d.GetArrayLength() != 3)
                    throw Error(at, "[kind, args, value]");
                var kindName = d[0].ValueKind == JsonValueKind.String ? d[0].GetString()! : "";
                if (!RandomDraw.TryParseKind(kindName, out var kind))
                    throw Error(at, "a kind of uniform, integer, choice or random");
                if (d[1].ValueKind != JsonValueKind.Array || d[1].EnumerateArray().Any(a => a.ValueKind != JsonValueKind.Number))
                    throw Error(at, "an argument list of numbers");
                if (d[2].ValueKind != JsonValueKind.Number)
                    throw Error(at, "a numeric value");
                list.Add(new RandomDraw(kind, d[1].EnumerateArray().Select(a => a.GetDouble()).ToArray(), d[2].GetDouble()));
            }
            return list;
        }
    }

    public static string Show(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
