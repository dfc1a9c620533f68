using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RLWorkbench.Tracking;

/// <summary>
/// Turns a resolved configuration into flat key/value parameters ("ppo.learningRate" = "0.0003"),
/// the shape MLflow and `runs show` want. Arrays stay whole as compact JSON, since a layer list
/// such as [64,64] is one setting, not two.
/// </summary>
public static class RunParameters
{
    public const string FileName = "params.json";

    public static SortedDictionary<string, string> Flatten(JsonNode? config)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        Add(result, "", config);
        return result;
    }

    private static void Add(SortedDictionary<string, string> result, string prefix, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj)
                    Add(result, prefix.Length == 0 ? key : prefix + "." + key, child);
                break;
            case null when prefix.Length > 0:
                result[prefix] = "null";
                break;
            case JsonValue value when prefix.Length > 0:
                result[prefix] = value.GetValueKind() switch
                {
                    JsonValueKind.String => value.GetValue<string>(),
                    JsonValueKind.Number => value.ToJsonString(),
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    _ => value.ToJsonString(),
                };
                break;
            case JsonArray array when prefix.Length > 0:
                result[prefix] = array.ToJsonString();
                break;
            case JsonValue or JsonArray:
                result["value"] = node.ToJsonString();
                break;
        }
    }

    /// <summary>A metric value from a table cell, or null when the cell holds no number (text, empty).</summary>
    public static double? ToMetric(object? value) => value switch
    {
        null => null,
        double d => d,
        float f => f,
        int i => i,
        long l => l,
        decimal m => (double)m,
        bool b => b ? 1 : 0,
        string s => ParseCell(s),
        IConvertible c when value is short or ushort or uint or ulong or byte or sbyte => c.ToDouble(CultureInfo.InvariantCulture),
        _ => ParseCell(value.ToString()),
    };

    public static double? ParseCell(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        if (text == "true")
            return 1;
        if (text == "false")
            return 0;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;
    }
}
