using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RLWorkbench.Gym.Random;

namespace RLWorkbench.Experiments.Sweeps;

/// <summary>
/// Where a random search draws one setting from, written in a spec as a one-key object:
/// {"logUniform": [lo, hi]}, {"uniform": [lo, hi]}, {"intUniform": [lo, hi]}, {"intLogUniform": [lo, hi]}
/// or {"choice": [values]}. Bounds are inclusive.
/// </summary>
public abstract record SettingDistribution
{
    /// <summary>Continuous draws keep this many significant digits, so a configuration's label is exactly the value its trial ran.</summary>
    public const int SignificantDigits = 4;

    private const string Forms = "{\"logUniform\": [lo, hi]}, {\"uniform\": [lo, hi]}, {\"intUniform\": [lo, hi]}, {\"intLogUniform\": [lo, hi]} or {\"choice\": [values]}";

    public abstract JsonNode? Sample(IRandomSource random);

    public static SettingDistribution Parse(string path, JsonNode? node)
    {
        if (node is not JsonObject { Count: 1 } form)
            throw new ExperimentConfigException($"random setting '{path}' needs one of {Forms}, got {SweepSpec.Show(node)}.");
        var (name, argument) = form.First();
        if (name == "choice")
        {
            return argument is JsonArray { Count: > 0 } values
                ? new Choice(values.Select(v => v?.DeepClone()).ToList())
                : throw new ExperimentConfigException($"random setting '{path}': choice needs a non-empty list of values, got {SweepSpec.Show(argument)}.");
        }
        if (name is not ("uniform" or "logUniform" or "intUniform" or "intLogUniform"))
            throw new ExperimentConfigException($"random setting '{path}' has the unknown distribution '{name}'; use one of {Forms}.");
        var (low, high) = Bounds(path, name, argument);
        var whole = name.StartsWith("int", StringComparison.Ordinal);
        if (whole && (low != Math.Floor(low) || high != Math.Floor(high) || Math.Abs(low) >= int.MaxValue || Math.Abs(high) >= int.MaxValue))
            throw new ExperimentConfigException($"random setting '{path}': {name} needs whole-number bounds, got {argument!.ToJsonString()}.");
        var logarithmic = name is "logUniform" or "intLogUniform";
        if (logarithmic && !(low > 0 && low < high))
            throw new ExperimentConfigException($"random setting '{path}': {name} needs 0 < lo < hi, got {argument!.ToJsonString()}.");
        if (!(low < high))
            throw new ExperimentConfigException($"random setting '{path}': {name} needs lo < hi, got {argument!.ToJsonString()}.");
        return name switch
        {
            "uniform" => new Uniform(low, high),
            "logUniform" => new LogUniform(low, high),
            "intUniform" => new IntUniform((long)low, (long)high),
            _ => new IntLogUniform((long)low, (long)high),
        };
    }

    private static (double Low, double High) Bounds(string path, string name, JsonNode? argument)
    {
        if (argument is JsonArray { Count: 2 } pair
            && pair.All(b => b is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
            && pair[0]!.GetValue<double>() is var low && pair[1]!.GetValue<double>() is var high
            && double.IsFinite(low) && double.IsFinite(high))
        {
            return (low, high);
        }
        throw new ExperimentConfigException($"random setting '{path}': {name} needs two numbers [lo, hi], got {SweepSpec.Show(argument)}.");
    }

    private static double Rounded(double value, double low, double high) =>
        Math.Clamp(double.Parse(value.ToString("G" + SignificantDigits, CultureInfo.InvariantCulture), CultureInfo.InvariantCulture), low, high);

    public sealed record Uniform(double Low, double High) : SettingDistribution
    {
        public override JsonNode? Sample(IRandomSource random) => JsonValue.Create(Rounded(random.Uniform(Low, High), Low, High));
    }

    /// <summary>Uniform in the logarithm: as likely between 1e-5 and 1e-4 as between 1e-4 and 1e-3 (learning rates, coefficients).</summary>
    public sealed record LogUniform(double Low, double High) : SettingDistribution
    {
        public override JsonNode? Sample(IRandomSource random) =>
            JsonValue.Create(Rounded(Math.Exp(random.Uniform(Math.Log(Low), Math.Log(High))), Low, High));
    }

    public sealed record IntUniform(long Low, long High) : SettingDistribution
    {
        public override JsonNode? Sample(IRandomSource random) => JsonValue.Create((long)random.Integer((int)Low, (int)High + 1));
    }

    /// <summary>Whole numbers spread evenly in the logarithm (batch sizes, layer widths), as Optuna's suggest_int(log=True).</summary>
    public sealed record IntLogUniform(long Low, long High) : SettingDistribution
    {
        public override JsonNode? Sample(IRandomSource random)
        {
            // Drawing over [lo, hi + 1) and flooring gives hi the same share of the log scale as its neighbours.
            var drawn = Math.Floor(Math.Exp(random.Uniform(Math.Log(Low), Math.Log(High + 1))));
            return JsonValue.Create((long)Math.Clamp(drawn, Low, High));
        }
    }

    public sealed record Choice(IReadOnlyList<JsonNode?> Values) : SettingDistribution
    {
        public override JsonNode? Sample(IRandomSource random) => Values[random.Choice(Values.Count)]?.DeepClone();
    }
}
