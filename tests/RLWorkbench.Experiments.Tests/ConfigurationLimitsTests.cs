using System.Text.Json;
using System.Text.Json.Nodes;
using RLWorkbench.Experiments.Compare;
using RLWorkbench.Experiments.Ppo;
using RLWorkbench.Experiments.Qlearn;
using RLWorkbench.Experiments.Sweeps;

namespace RLWorkbench.Experiments.Tests;

/// <summary>
/// What a kind refuses before anything is written: null sections, numbers a double cannot hold, absurd values, and
/// files that name a directory; each one sentence naming the dotted path. And the shipped files, read strictly.
/// </summary>
public class ConfigurationLimitsTests
{
    private static string Refusal(IExperimentKind kind, string json)
    {
        var configuration = kind.Defaults();
        ConfigurationJson.Overlay(configuration, JsonNode.Parse(json)!.AsObject());
        return Assert.Throws<ExperimentConfigException>(() => kind.Create(configuration)).Message;
    }

    [Theory]
    [InlineData("ppo", """{"ppo": null}""", "'ppo' cannot be null; leave it out for its defaults, or set its settings (ppo.numEnvs, ppo.stepsPerEnv, ppo.minibatchSize, ...).")]
    [InlineData("ppo", """{"environment": null}""", "'environment' cannot be null; leave it out for its defaults, or set its settings (environment.variant, environment.layout, environment.agents).")]
    [InlineData("ppo", """{"milestoneSteps": null}""", "'milestoneSteps' cannot be null; leave it out for the default [], or give another list.")]
    [InlineData("ppo", """{"device": null}""", "'device' cannot be null; leave it out for the default \"auto\", or give another value.")]
    [InlineData("ppo", """{"ppo": {"learningRate": 1e400}}""", "'ppo.learningRate' must be a finite number, got 1e400.")]
    [InlineData("ppo", """{"evalEverySteps": -1}""", "evalEverySteps must be 0 (no periodic evaluation) or a step count up to 10,000,000,000, got -1.")]
    [InlineData("ppo", """{"ppo": {"epochs": 100000}}""", "ppo settings: epochs must be between 1 and 10,000, got 100000.")]
    [InlineData("ppo", """{"ppo": {"clipRange": 1e300}}""", "ppo settings: clipRange must be a finite number of at most 1,000,000 in size, got 1E+300.")]
    [InlineData("qlearn", """{"load": null}""", "'load' cannot be null; leave it out for its defaults, or set its settings (load.window, load.minimumEntries, load.hotFactor, ...).")]
    [InlineData("qlearn", """{"providers": {"openai": null}}""", "'providers.openai' cannot be null; leave it out for its defaults, or set its settings (providers.openai.model, providers.openai.temperature, providers.openai.maxOutputTokens, ...).")]
    [InlineData("qlearn", """{"resilience": {"attemptTimeoutSeconds": -1}}""", "'resilience.attemptTimeoutSeconds' must be a number from 0.01 to 86,400, got -1.")]
    [InlineData("qlearn", """{"resilience": {"attemptTimeoutSeconds": 1e308}}""", "'resilience.attemptTimeoutSeconds' must be a number from 0.01 to 86,400, got 1E+308.")]
    [InlineData("qlearn", """{"resilience": {"breakSeconds": 0.1}}""", "'resilience.breakSeconds' must be a number from 0.5 to 86,400, got 0.1.")]
    [InlineData("qlearn", """{"simulatedCallSeconds": 1e300}""", "'simulatedCallSeconds' must be a number from 0 to 3,600, got 1E+300.")]
    [InlineData("qlearn", """{"iterations": 100000000}""", "'iterations' must be a whole number from 1 to 1,000,000, got 100000000.")]
    [InlineData("qlearn", """{"concurrency": 100000}""", "'concurrency' must be a whole number from 1 to 256, got 100000.")]
    [InlineData("qlearn", """{"budgetUsd": 1e12}""", "'budgetUsd' must be a number from 0 to 1,000,000, got 1,000,000,000,000.")]
    [InlineData("qlearn", """{"load": {"window": 4, "minimumEntries": 5}}""", "'load.minimumEntries' must be a whole number from 0 to 4, got 5.")]
    [InlineData("qlearn", """{"reward": {"costScaleUsd": 0}}""", "'reward.costScaleUsd' must be above 0 and at most 1,000,000, got 0.")]
    [InlineData("qlearn", """{"providers": {"openai": {"maxOutputTokens": 0}}}""", "'providers.openai.maxOutputTokens' must be a whole number from 1 to 1,000,000, got 0.")]
    [InlineData("qlearn", """{"providers": {"openai": {"baseUrl": "not a url"}}}""", "'providers.openai.baseUrl' must be an http(s) URL such as http://localhost:11434/v1, got \"not a url\".")]
    [InlineData("qlearn", """{"providers": {"anthropic": {"baseUrl": "ftp://example.org"}}}""", "'providers.anthropic.baseUrl' must be an http(s) URL such as http://localhost:11434/v1, got \"ftp://example.org\".")]
    [InlineData("qlearn", """{"qLearning": {"gamma": 2}}""", "'qLearning.gamma' must be a number from 0 to 1, got 2.")]
    [InlineData("compare", """{"ppo": null}""", "'ppo' cannot be null; leave it out for its defaults, or set its settings (ppo.trainer, ppo.seedTrainer, ppo.seedNetwork, ...).")]
    [InlineData("compare", """{"problem": null}""", "'problem' cannot be null; leave it out for its defaults, or set its settings (problem.kind, problem.profile, problem.tasks, ...).")]
    [InlineData("compare", """{"learners": null}""", "'learners' cannot be null; leave it out for the default [\"qlearn\",\"ppo-seed\",\"ppo-small\",\"ppo-seed-settings\",\"ucb..., or give another list.")]
    [InlineData("compare", """{"firstSeed": 2147483647, "seeds": 2}""", "firstSeed 2147483647 with 2 seeds would use seeds up to 2147483648; firstSeed must be at least -2,147,483,648 and firstSeed + seeds - 1 at most 2,147,483,647.")]
    [InlineData("compare", """{"budgetCalls": 2000000000}""", "'budgetCalls' must be a whole number from 1 to 100,000,000, got 2000000000.")]
    [InlineData("compare", """{"problem": {"load": {"penaltyCap": 3}}}""", "'problem.load.penaltyCap' must be a number from 0 to 1, got 3.")]
    public void An_absurd_or_null_setting_is_one_sentence_naming_it(string kind, string json, string message) =>
        Assert.Equal(message, Refusal(ExperimentCatalog.Default.Get(kind), json));

    [Theory]
    [InlineData("qlearn")]
    [InlineData("compare")]
    public void A_cassette_to_record_that_names_a_directory_is_refused_before_the_run(string kind)
    {
        var directory = Directory.CreateTempSubdirectory("rlw-record-").FullName;
        var json = new JsonObject { ["record"] = directory + "/" };
        if (kind == "compare")
            json["learners"] = new JsonArray("random");
        Assert.Equal($"record '{directory}/' is a directory; give a file name such as {directory}/cassette.jsonl.",
            Refusal(ExperimentCatalog.Default.Get(kind), json.ToJsonString()));
    }

    [Fact]
    public void A_misspelt_group_suggests_the_group()
    {
        var configuration = new QlearnExperimentKind().Defaults();
        var e = Assert.Throws<ExperimentConfigException>(() => ConfigurationJson.Overlay(configuration, JsonNode.Parse("""{"resilence": {"maxRetries": 1}}""")!.AsObject()));
        Assert.Equal("unknown setting 'resilence'; did you mean 'resilience'?", e.Message);
    }

    private static IEnumerable<string> ShippedJson() =>
        Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "experiments"), "*.json", SearchOption.AllDirectories).Order();

    [Fact]
    public void Every_shipped_experiment_file_is_plain_json_that_a_strict_parser_reads()
    {
        var files = ShippedJson().ToList();
        Assert.Contains(files, f => f.EndsWith("profiles/default.json", StringComparison.Ordinal));
        Assert.True(files.Count >= 18, $"only {files.Count} experiment files found");
        foreach (var file in files)
        {
            // The default reader: no comments, no trailing commas.
            var e = Record.Exception(() => JsonDocument.Parse(File.ReadAllText(file)).Dispose());
            Assert.True(e is null, $"{file}: {e?.Message}");
        }
    }

    [Fact]
    public void Every_shipped_run_file_loads_through_its_kind_and_every_sweep_spec_plans()
    {
        var loaded = 0;
        foreach (var file in ShippedJson())
        {
            var name = Path.GetFileName(file);
            IExperimentKind? kind = name.StartsWith("ppo-", StringComparison.Ordinal) ? new PpoExperimentKind()
                : name.StartsWith("qlearn", StringComparison.Ordinal) ? new QlearnExperimentKind()
                : name.StartsWith("compare", StringComparison.Ordinal) ? new CompareExperimentKind()
                : null;
            if (kind is not null)
            {
                // The description is for readers: it never reaches the configuration a run saves.
                Assert.Null(ConfigPaths.Match(kind.Load(file), ConfigurationJson.DescriptionField));
                loaded++;
            }
            else if (name.StartsWith("sweep-", StringComparison.Ordinal))
            {
                Assert.NotEmpty(SweepSpec.Load(file).Name);
                loaded++;
            }
        }
        Assert.Equal(20, loaded);
    }

    [Fact]
    public void A_description_is_set_aside_but_must_be_words()
    {
        var directory = Directory.CreateTempSubdirectory("rlw-description-").FullName;
        var good = Path.Combine(directory, "good.json");
        File.WriteAllText(good, """{"description": "a short run", "steps": 1024}""");
        var configuration = new PpoExperimentKind().Load(good);
        Assert.Equal(1024, configuration["steps"]!.GetValue<long>());
        Assert.Null(ConfigPaths.Match(configuration, "description"));

        var bad = Path.Combine(directory, "bad.json");
        File.WriteAllText(bad, """{"description": 3}""");
        Assert.Equal($"config file '{bad}': 'description' must be a string saying what the file is for.",
            Assert.Throws<ExperimentConfigException>(() => new PpoExperimentKind().Load(bad)).Message);
    }
}
