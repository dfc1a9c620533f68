using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RLWorkbench.Tracking;

/// <summary>
/// What tells one run from another of its kind in `runs list`: the algorithm (or policy) it ran, its seed, and
/// its final score with the score's name. Read from params.json and scores.json (env-run: summary.json); a value
/// a run does not record is null.
/// </summary>
/// <param name="FinalName">What <paramref name="Final"/> is, in the words of the run's scores.json.</param>
public sealed record RunHeadline(string? Algorithm, string? Seed, double? Final, string? FinalName)
{
    public static readonly RunHeadline None = new(null, null, null, null);

    /// <summary>The summary of a fixed-policy run: its mean return.</summary>
    public const string EnvRunFinalName = "mean return over its episodes";

    public static RunHeadline Read(string directory, RunInfo info)
    {
        var parameters = ReadParameters(directory);
        string? Get(string key) => parameters.TryGetValue(key, out var v) && v != "null" ? v : null;

        var algorithm = info.Kind switch
        {
            "ppo" => Get("ppo.distribution") is { } distribution ? $"ppo ({distribution})" : "ppo",
            "compare" => Learners(Get("learners")),
            "env-run" => Get("policy"),
            // qlearn and any kind that names its algorithm: the learner wrapped around it when not the plain one.
            _ => Get("algorithm") is { } a ? (Get("learner") is { } l && l != "base" ? $"{a} ({l})" : a) : Get("policy"),
        };
        var seed = info.Kind switch
        {
            "ppo" => Get("ppo.seed"),
            "compare" => SeedRange(Get("firstSeed"), Get("seeds")),
            _ => Get("seed") ?? Get("ppo.seed"),
        };
        var (final, finalName) = info.Kind == "env-run"
            ? (Number(ReadJson(directory, "summary.json")?["mean"]), EnvRunFinalName)
            : ReadJson(directory, "scores.json") is { } scores
                ? (Number(scores["final"]), scores["scoreName"]?.GetValueKind() == JsonValueKind.String ? scores["scoreName"]!.GetValue<string>() : null)
                : (null, null);
        return new RunHeadline(algorithm, seed, final, finalName);
    }

    /// <summary>"qlearn +8": the first learner, whose score the run's scores.json holds, and how many others ran.</summary>
    private static string? Learners(string? json)
    {
        if (json is null)
            return null;
        try
        {
            var names = JsonNode.Parse(json) as JsonArray;
            if (names is null || names.Count == 0)
                return null;
            var first = names[0]?.ToString();
            return names.Count == 1 ? first : $"{first} +{names.Count - 1}";
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? SeedRange(string? first, string? count)
    {
        if (!long.TryParse(first, NumberStyles.Integer, CultureInfo.InvariantCulture, out var from))
            return null;
        if (!long.TryParse(count, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n <= 1)
            return first;
        return string.Create(CultureInfo.InvariantCulture, $"{from}-{from + n - 1}");
    }

    private static double? Number(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.Number ? value.GetValue<double>() : null;

    private static IReadOnlyDictionary<string, string> ReadParameters(string directory)
    {
        var path = Path.Combine(directory, RunParameters.FileName);
        try
        {
            return File.Exists(path)
                ? JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? []
                : new Dictionary<string, string>();
        }
        catch (JsonException)
        {
            // A damaged params.json costs the list its columns; `runs show` names the damage.
            return new Dictionary<string, string>();
        }
    }

    private static JsonNode? ReadJson(string directory, string file)
    {
        var path = Path.Combine(directory, file);
        try
        {
            return File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
