using System.Text.Json.Nodes;
using RLWorkbench.Experiments;

namespace RLWorkbench.Experiments.Tests;

public class ConfigPathsTests
{
    private static JsonObject Sample() => JsonNode.Parse("""
        { "steps": 50000, "ppo": { "learningRate": 0.0003, "entropyCoefficient": 0.01, "targetKl": null, "hiddenSizes": [256, 256, 128] },
          "environment": { "layout": "seed67" } }
        """)!.AsObject();

    [Fact]
    public void Leaves_lists_every_setting_by_dotted_path()
    {
        Assert.Equal(["steps", "ppo.learningRate", "ppo.entropyCoefficient", "ppo.targetKl", "ppo.hiddenSizes", "environment.layout"], ConfigPaths.Leaves(Sample()));
    }

    [Fact]
    public void Set_matches_names_case_insensitively_and_parses_values_as_json()
    {
        var config = Sample();
        ConfigPaths.Set(config, "PPO.learningrate", ConfigPaths.ParseValue("1e-4"));
        ConfigPaths.Set(config, "ppo.targetKl", ConfigPaths.ParseValue("0.03"));
        ConfigPaths.Set(config, "ppo.hiddenSizes", ConfigPaths.ParseValue("[64,64]"));
        ConfigPaths.Set(config, "environment.layout", ConfigPaths.ParseValue("notebook94"));
        Assert.Equal(1e-4, config["ppo"]!["learningRate"]!.GetValue<double>());
        Assert.Equal(0.03, config["ppo"]!["targetKl"]!.GetValue<double>());
        Assert.Equal("[64,64]", config["ppo"]!["hiddenSizes"]!.ToJsonString());
        Assert.Equal("notebook94", config["environment"]!["layout"]!.GetValue<string>());
        Assert.Equal("ppo.learningRate", ConfigPaths.Canonical(config, "Ppo.LearningRate"));
    }

    [Theory]
    [InlineData("ppo.learnRate", "ppo.learningRate")]
    [InlineData("ppo.entropyCoef", "ppo.entropyCoefficient")]
    [InlineData("learningRate", "ppo.learningRate")]
    [InlineData("stepz", "steps")]
    public void An_unknown_path_names_the_closest_valid_one(string given, string suggested)
    {
        var e = Assert.Throws<ExperimentConfigException>(() => ConfigPaths.Set(Sample(), given, JsonValue.Create(1)));
        Assert.Equal($"unknown setting '{given}'; did you mean '{suggested}'?", e.Message);
    }

    [Fact]
    public void A_group_cannot_be_set_as_one_value()
    {
        var e = Assert.Throws<ExperimentConfigException>(() => ConfigPaths.Set(Sample(), "ppo", JsonValue.Create(1)));
        Assert.StartsWith("'ppo' is a group of settings", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ppo.learningRate=1e-4", "ppo.learningRate", "1e-4")]
    [InlineData("environment.layout=notebook94", "environment.layout", "\"notebook94\"")]
    [InlineData(" ppo.targetKl = null", "ppo.targetKl", null)]
    public void Assignments_split_at_the_first_equals_sign(string text, string path, string? json)
    {
        var (p, v) = ConfigPaths.ParseAssignment(text);
        Assert.Equal(path, p);
        Assert.Equal(json, v?.ToJsonString());
    }

    [Fact]
    public void An_assignment_without_a_path_is_refused()
    {
        Assert.Throws<ExperimentConfigException>(() => ConfigPaths.ParseAssignment("=3"));
        Assert.Throws<ExperimentConfigException>(() => ConfigPaths.ParseAssignment("ppo.learningRate"));
    }
}
