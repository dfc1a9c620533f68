using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RLWorkbench.Routing.Core;

/// <summary>
/// How much each objective counts: reward = quality x q - cost x USD - latency x seconds - fairness x load penalty.
/// Written "quality=1,cost=20,latency=0.05,fairness=0.1" on the command line and in a configuration (where the same
/// object form, {"quality": 1, "cost": 20}, is accepted too); an objective not named weighs 0. Weights are finite and
/// non-negative, and at least one is positive.
/// <para>
/// <see cref="Seed"/> gives the seed's composite reward where that reward is linear: with the seed's scales,
/// quality=1,cost=50,latency=0.01,fairness=1 equals max(0, clip(q - 0.10 min(c / 0.002, 1) - 0.05 min(l / 5, 1), 0, 1) - penalty)
/// whenever c &lt;= $0.002, l &lt;= 5 s and the result is not below 0 (to rounding: 50 x c is not bit-for-bit 0.10 x (c / 0.002)).
/// No weights give it beyond those caps, because a weighted sum has no min(., 1) and no clip: a run without weights keeps
/// computing the seed's reward itself.
/// </para>
/// </summary>
[JsonConverter(typeof(RewardWeightsJsonConverter))]
public sealed record RewardWeights
{
    public const string Example = "quality=1,cost=20,latency=0.05,fairness=0.1";

    public static IReadOnlyList<string> Objectives { get; } = ["quality", "cost", "latency", "fairness"];

    public RewardWeights(double quality, double cost, double latency, double fairness)
    {
        double[] all = [quality, cost, latency, fairness];
        for (var i = 0; i < all.Length; i++)
        {
            if (!double.IsFinite(all[i]) || all[i] < 0)
                throw new RoutingInputException(string.Create(CultureInfo.InvariantCulture, $"The weight of {Objectives[i]} must be a finite number of at least 0, not {all[i]}."));
        }
        if (all.All(w => w == 0))
            throw new RoutingInputException($"The weights are all zero; give at least one objective a positive weight, for example {Example}.");
        (Quality, Cost, Latency, Fairness) = (quality, cost, latency, fairness);
    }

    /// <summary>Per unit of judge quality.</summary>
    public double Quality { get; }

    /// <summary>Per USD of the agent calls.</summary>
    public double Cost { get; }

    /// <summary>Per second of the agent calls.</summary>
    public double Latency { get; }

    /// <summary>Per unit of load penalty.</summary>
    public double Fairness { get; }

    /// <summary>The weights equal to the seed's reward in its linear region (see the type's remarks).</summary>
    public static RewardWeights Seed(RewardOptions reward) =>
        new(1.0, reward.CostWeight / reward.CostScaleUsd, reward.LatencyWeight / reward.LatencyScaleSeconds, 1.0);

    public double Scalarise(RewardVector vector) =>
        Quality * vector.Quality - Cost * vector.CostUsd - Latency * vector.LatencySeconds - Fairness * vector.Fairness;

    /// <summary>"quality=1,cost=20,latency=0.05,fairness=0.1"; a name may appear once, in any order and any case.</summary>
    public static RewardWeights Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new RoutingInputException($"The weights are empty; give objective=weight pairs, for example {Example}.");
        var weights = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var part in text.Split(','))
        {
            var pair = part.Split('=');
            if (pair.Length != 2 || pair[0].Trim().Length == 0)
                throw new RoutingInputException($"'{part.Trim()}' in the weights '{text}' is not objective=weight; write them as {Example}.");
            var name = Objective(pair[0], text);
            if (weights.ContainsKey(name))
                throw new RoutingInputException($"The objective {name} is weighted twice in the weights '{text}'; give each objective at most once.");
            weights[name] = double.TryParse(pair[1].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var w) && double.IsFinite(w) && w >= 0
                ? w
                : throw new RoutingInputException($"The weight of {name} must be a finite number of at least 0, not '{pair[1].Trim()}'.");
        }
        return From(weights, text);
    }

    /// <summary>The configuration's object form, {"quality": 1, "cost": 20}.</summary>
    public static RewardWeights FromObject(IReadOnlyDictionary<string, double> weights)
    {
        var text = string.Join(",", weights.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key}={kv.Value}")));
        var named = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (key, value) in weights)
        {
            var name = Objective(key, text);
            if (!named.TryAdd(name, value))
                throw new RoutingInputException($"The objective {name} is weighted twice in the weights '{text}'; give each objective at most once.");
        }
        return From(named, text);
    }

    private static RewardWeights From(IReadOnlyDictionary<string, double> weights, string text)
    {
        if (weights.Values.All(w => w == 0))
            throw new RoutingInputException($"The weights '{text}' are all zero; give at least one objective a positive weight.");
        return new RewardWeights(weights.GetValueOrDefault("quality"), weights.GetValueOrDefault("cost"), weights.GetValueOrDefault("latency"), weights.GetValueOrDefault("fairness"));
    }

    private static string Objective(string name, string text) =>
        Objectives.FirstOrDefault(o => string.Equals(o, name.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new RoutingInputException($"Unknown objective '{name.Trim()}' in the weights '{text}'; the objectives are quality, cost, latency and fairness.");

    /// <summary>The canonical text, which <see cref="Parse"/> reads back to the same weights.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"quality={Quality:R},cost={Cost:R},latency={Latency:R},fairness={Fairness:R}");
}

/// <summary>Reads the weights from a configuration as their text or as an object; writes the object.</summary>
public sealed class RewardWeightsJsonConverter : JsonConverter<RewardWeights>
{
    public override RewardWeights Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
            return RewardWeights.Parse(reader.GetString()!);
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new RoutingInputException($"The weights must be text such as \"{RewardWeights.Example}\" or an object such as {{\"quality\": 1, \"cost\": 20}}.");
        var weights = new List<KeyValuePair<string, double>>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.Number)
                throw new RoutingInputException($"The weight of {name} must be a finite number of at least 0, not {JsonElementText(ref reader)}.");
            weights.Add(new(name, reader.GetDouble()));
        }
        var names = weights.Select(w => w.Key.Trim().ToLowerInvariant()).ToArray();
        if (names.Distinct().Count() != names.Length)
            throw new RoutingInputException($"An objective is weighted twice in the weights object; give each objective at most once.");
        return RewardWeights.FromObject(weights.ToDictionary(w => w.Key, w => w.Value, StringComparer.Ordinal));
    }

    public override void Write(Utf8JsonWriter writer, RewardWeights value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteNumber("quality", value.Quality);
        writer.WriteNumber("cost", value.Cost);
        writer.WriteNumber("latency", value.Latency);
        writer.WriteNumber("fairness", value.Fairness);
        writer.WriteEndObject();
    }

    private static string JsonElementText(ref Utf8JsonReader reader)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return document.RootElement.GetRawText();
    }
}
