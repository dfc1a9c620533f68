using System.Text.Json;
using RLWorkbench.Tracking;

namespace RLWorkbench.Routing.Core;

/// <summary>USD per million tokens for one model.</summary>
public sealed record ModelPrice(double Input, double Output);

/// <summary>
/// Per-model prices as editable data (experiments/prices.json is the embedded default). Prices change more often than
/// code does, so nothing here is a constant.
/// </summary>
public sealed class PriceTable
{
    public PriceTable(IReadOnlyDictionary<string, ModelPrice> models, ModelPrice unknown)
    {
        Models = models;
        Unknown = unknown;
    }

    public IReadOnlyDictionary<string, ModelPrice> Models { get; }

    public ModelPrice Unknown { get; }

    public static PriceTable Default => Parse(EmbeddedData.Read("prices.json"), "the embedded price table");

    public static PriceTable Load(string path) =>
        File.Exists(path) ? Parse(File.ReadAllText(path), path) : throw new RoutingInputException(InputFile.Missing("The price table file", path));

    public static PriceTable Parse(string json, string source)
    {
        PriceFile? file;
        try
        {
            file = JsonSerializer.Deserialize<PriceFile>(json, EmbeddedData.Json);
        }
        catch (JsonException e)
        {
            throw new RoutingInputException($"The price table {source} is not valid JSON ({JsonProblem.Describe(e)}).", e);
        }
        if (file?.Models is null || file.Unknown is null)
            throw new RoutingInputException($"The price table {source} needs \"models\" and \"unknown\" entries.");
        foreach (var (model, price) in file.Models.Append(new("unknown", file.Unknown)))
        {
            if (price.Input < 0 || price.Output < 0)
                throw new RoutingInputException($"The price of '{model}' in {source} is negative.");
        }
        return new PriceTable(new Dictionary<string, ModelPrice>(file.Models, StringComparer.OrdinalIgnoreCase), file.Unknown);
    }

    /// <summary>The exact name, else the longest listed name the id starts with followed by '-' (dated snapshots), else unknown.</summary>
    public ModelPrice PriceOf(string? model)
    {
        if (string.IsNullOrEmpty(model))
            return Unknown;
        if (Models.TryGetValue(model, out var exact))
            return exact;
        var prefix = Models.Keys.Where(k => model.StartsWith(k + "-", StringComparison.OrdinalIgnoreCase)).MaxBy(k => k.Length);
        return prefix is null ? Unknown : Models[prefix];
    }

    /// <summary>(input tokens x input price + output tokens x output price) / 1,000,000.</summary>
    public double Cost(string? model, long inputTokens, long outputTokens)
    {
        var price = PriceOf(model);
        return (inputTokens * price.Input + outputTokens * price.Output) / 1_000_000.0;
    }

    private sealed record PriceFile(Dictionary<string, ModelPrice>? Models, ModelPrice? Unknown);
}
