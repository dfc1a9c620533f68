using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace RLWorkbench.Experiments.Tests;

public class ConfigurationJsonTests
{
    private sealed record Inner
    {
        public double Rate { get; init; } = 0.1;

        public int[] Sizes { get; init; } = [8];

        public bool Flag { get; init; }
    }

    private sealed record Outer
    {
        public long Steps { get; init; } = 10;

        public string Name { get; init; } = "a";

        public double? Limit { get; init; }

        public Inner Inner { get; init; } = new();
    }

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    private static JsonObject Defaults() => JsonSerializer.SerializeToNode(new Outer(), Json)!.AsObject();

    private static string BindError(string json) =>
        Assert.Throws<ExperimentConfigException>(() => ConfigurationJson.Bind<Outer>(JsonNode.Parse(json)!.AsObject(), Json)).Message;

    [Fact]
    public void Overlay_merges_groups_setting_by_setting_and_keeps_the_defaults_spelling()
    {
        var config = Defaults();
        ConfigurationJson.Overlay(config, JsonNode.Parse("""{ "STEPS": 5, "inner": { "rate": 0.5 }, "limit": 2 }""")!.AsObject());
        Assert.Equal("""{"steps":5,"name":"a","limit":2,"inner":{"rate":0.5,"sizes":[8],"flag":false}}""", config.ToJsonString());
        var bound = ConfigurationJson.Bind<Outer>(config, Json);
        Assert.Equal((5L, "a", 2.0, 0.5, 8), (bound.Steps, bound.Name, bound.Limit, bound.Inner.Rate, bound.Inner.Sizes.Single()));
    }

    [Fact]
    public void Overlay_names_an_unknown_setting_with_the_closest_valid_one()
    {
        var e = Assert.Throws<ExperimentConfigException>(() => ConfigurationJson.Overlay(Defaults(), JsonNode.Parse("""{ "inner": { "rates": 1 } }""")!.AsObject()));
        Assert.Equal("unknown setting 'inner.rates'; did you mean 'inner.rate'?", e.Message);
    }

    [Theory]
    [InlineData("""{ "steps": "many" }""", "'steps' must be a whole number, got \"many\".")]
    [InlineData("""{ "limit": true }""", "'limit' must be a number, got true.")]
    [InlineData("""{ "inner": { "flag": 3 } }""", "'inner.flag' must be true or false, got 3.")]
    [InlineData("""{ "inner": { "sizes": 4 } }""", "'inner.sizes' must be a list such as [64, 64], got 4.")]
    [InlineData("""{ "inner": { "sizes": [4, 2.5] } }""", "'inner.sizes' must be a list of whole numbers, got [4,2.5].")]
    [InlineData("""{ "name": 7 }""", "'name' must be a string, got 7.")]
    [InlineData("""{ "inner": 7 }""", "'inner' must be an object of settings, got 7.")]
    [InlineData("""{ "inner": { "rte": 1 } }""", "unknown setting 'inner.rte'; did you mean 'inner.rate'?")]
    public void Binding_names_the_dotted_path_and_what_is_allowed(string json, string message) => Assert.Equal(message, BindError(json));

    [Theory]
    [InlineData("$.ppo.learningRate", "ppo.learningRate", false)]
    [InlineData("$.ppo.hiddenSizes[1]", "ppo.hiddenSizes", true)]
    [InlineData("$['providers']['openai'].model", "providers.openai.model", false)]
    [InlineData("$", "", false)]
    public void Json_paths_become_dotted_paths(string jsonPath, string dotted, bool inList) =>
        Assert.Equal((dotted, inList), ConfigurationJson.DottedPath(jsonPath));

    [Fact]
    public void A_missing_or_malformed_file_is_one_sentence_naming_it()
    {
        Assert.Equal("config file '/no/such.json' does not exist; give a JSON file such as experiments/x.json.",
            Assert.Throws<ExperimentConfigException>(() => ConfigurationJson.ReadFile("/no/such.json", "x", "experiments/x.json")).Message);
        var broken = Path.Combine(Path.GetTempPath(), $"rlw-broken-{Guid.NewGuid():N}.json");
        File.WriteAllText(broken, "{ \"steps\": 1, // a comment is fine\n \"name\": }");
        Assert.StartsWith($"config file '{broken}' is not valid JSON: ", Assert.Throws<ExperimentConfigException>(() => ConfigurationJson.ReadFile(broken, "x", "e.json")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Line_progress_prints_the_start_each_report_and_notices()
    {
        using var writer = new StringWriter();
        var progress = ExperimentProgress.Lines(writer);
        progress.Started("ppo: a run", 0, 16384, "steps");
        progress.Notice("Device CPU.");
        progress.Advanced(8192, 2000.4, "ep_rew_mean    358.3");
        Assert.Equal(["ppo: a run (0 of 16,384 steps done)", "Device CPU.", "8,192/16,384 steps  2,000/s  ep_rew_mean    358.3"], writer.ToString().TrimEnd().Split(Environment.NewLine));
    }
}
