using System.Globalization;
using System.Text.Json.Nodes;
using RLWorkbench.Experiments.Sweeps;
using RLWorkbench.Gym.Random;

namespace RLWorkbench.Experiments.Tests;

public class SweepPlannerTests
{
    private static readonly DateTimeOffset Created = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    internal static SweepManifest Plan(string specJson, string? name = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "rlw-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, (name ?? "spec") + ".json");
        File.WriteAllText(path, specJson);
        return SweepPlanner.Plan(SweepSpec.Load(path), ToyKind.Catalog, Created);
    }

    private static string Value(JsonObject configuration, string path) => ConfigPaths.Get(configuration, path)!.ToJsonString();

    [Fact]
    public void A_grid_expands_with_the_last_setting_fastest_and_trials_run_seed_by_seed()
    {
        var manifest = Plan("""
            { "name": "lr-alg", "experiment": "toy",
              "configuration": { "steps": 50, "train": { "clip": 0.3 } },
              "grid": { "train.learningRate": [0.001, 0.002], "Train.Algorithm": ["adam", "sgd"] },
              "seeds": "0-1" }
            """);

        Assert.Equal("lr-alg", manifest.Name);
        Assert.Equal("toy", manifest.Experiment);
        Assert.Equal(["train.learningRate", "train.algorithm"], manifest.SettingPaths);
        Assert.Equal(
            ["c00 train.learningRate=0.001 train.algorithm=adam", "c01 train.learningRate=0.001 train.algorithm=sgd",
             "c02 train.learningRate=0.002 train.algorithm=adam", "c03 train.learningRate=0.002 train.algorithm=sgd"],
            manifest.Configurations.Select(c => $"{c.Key} {c.Label}"));
        Assert.Equal([0L, 1L], manifest.Seeds);
        Assert.Equal(
            ["c00-seed0", "c01-seed0", "c02-seed0", "c03-seed0", "c00-seed1", "c01-seed1", "c02-seed1", "c03-seed1"],
            manifest.Trials.Select(t => t.Id));
        Assert.Equal(Enumerable.Range(0, 8), manifest.Trials.Select(t => t.Index));
        var last = manifest.Trials[7];
        Assert.Equal("trials/c03-seed1", last.Directory);
        Assert.Equal("c03", last.ConfigurationKey);
        Assert.Equal(1, last.Seed);
        // The whole resolved configuration: defaults, the spec's configuration, the grid point and the seed.
        Assert.Equal("""{"steps":50,"seed":1,"train":{"learningRate":0.002,"hidden":[8,8],"algorithm":"sgd","clip":0.3},"failAtStep":null,"pauseAtStep":null}""", last.Configuration.ToJsonString());
        Assert.Equal("""{"steps":50,"seed":0,"train":{"learningRate":0.001,"hidden":[8,8],"algorithm":"adam","clip":0.3},"failAtStep":null,"pauseAtStep":null}""", manifest.BaseConfiguration.ToJsonString());
    }

    [Fact]
    public void Random_samples_repeat_the_grid_with_draws_fixed_by_the_specs_seed()
    {
        const string spec = """
            { "experiment": "toy",
              "grid": { "train.algorithm": ["adam", "sgd"] },
              "random": { "samples": 3, "seed": 7, "settings": {
                  "train.learningRate": { "logUniform": [0.0001, 0.01] },
                  "train.hidden": { "choice": [[8], [16, 16]] } } },
              "seeds": [4] }
            """;
        var manifest = Plan(spec);

        // The same draws made independently: one generator seeded by random.seed, configurations in order,
        // settings in the spec's order; continuous values kept to 4 significant digits.
        var source = new SeededRandomSource(7);
        var expected = new List<string>();
        for (var sample = 0; sample < 3; sample++)
        {
            foreach (var algorithm in new[] { "adam", "sgd" })
            {
                var rate = Math.Exp(source.Uniform(Math.Log(0.0001), Math.Log(0.01)));
                var hidden = source.Choice(2) == 0 ? "[8]" : "[16,16]";
                expected.Add($"train.algorithm={algorithm} train.learningRate={double.Parse(rate.ToString("G4", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture)} train.hidden={hidden}");
            }
        }
        Assert.Equal(expected, manifest.Configurations.Select(c => c.Label));
        Assert.Equal(["c00-seed4", "c01-seed4", "c02-seed4", "c03-seed4", "c04-seed4", "c05-seed4"], manifest.Trials.Select(t => t.Id));

        // Deterministic: the same spec gives the same trials; another random seed gives other draws.
        Assert.Equal(manifest.Trials.Select(t => t.Configuration.ToJsonString()), Plan(spec).Trials.Select(t => t.Configuration.ToJsonString()));
        Assert.NotEqual(manifest.Configurations.Select(c => c.Label), Plan(spec.Replace("\"seed\": 7", "\"seed\": 8")).Configurations.Select(c => c.Label));
    }

    [Fact]
    public void A_random_draw_that_repeats_a_configuration_is_dropped()
    {
        var manifest = Plan("""
            { "experiment": "toy", "random": { "samples": 20, "seed": 1, "settings": { "train.algorithm": { "choice": ["adam", "sgd"] } } } }
            """);
        Assert.Equal(2, manifest.Configurations.Count);
        Assert.Equal(["c00", "c01"], manifest.Configurations.Select(c => c.Key));
        Assert.Equal(new[] { "adam", "sgd" }.Order(), manifest.Configurations.Select(c => c.Settings["train.algorithm"]!.GetValue<string>()).Order());
    }

    [Fact]
    public void Without_a_grid_or_seeds_there_is_one_trial_with_the_configurations_own_seed()
    {
        var manifest = Plan("""{ "experiment": "toy", "configuration": { "seed": 9 } }""", name: "single");
        Assert.Equal("single", manifest.Name);
        var configuration = Assert.Single(manifest.Configurations);
        Assert.Equal("base", configuration.Label);
        Assert.Equal("c00-seed9", Assert.Single(manifest.Trials).Id);
        Assert.Equal("9", Value(manifest.Trials[0].Configuration, "seed"));
    }

    [Fact]
    public void Log_uniform_draws_stay_within_bounds_and_spread_evenly_over_the_decades()
    {
        var distribution = SettingDistribution.Parse("x", JsonNode.Parse("""{ "logUniform": [0.0001, 0.1] }"""));
        var source = new SeededRandomSource(3);
        var draws = Enumerable.Range(0, 3000).Select(_ => distribution.Sample(source)!.GetValue<double>()).ToList();
        Assert.All(draws, d => Assert.InRange(d, 0.0001, 0.1));
        // Three decades, each about a third of the draws.
        Assert.All(new[] { (0.0001, 0.001), (0.001, 0.01), (0.01, 0.1) }, decade =>
            Assert.InRange(draws.Count(d => d >= decade.Item1 && d < decade.Item2) / 3000.0, 0.29, 0.38));
        Assert.All(draws, d => Assert.Equal(d, double.Parse(d.ToString("G4", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void Whole_number_draws_cover_both_bounds_and_nothing_outside()
    {
        var source = new SeededRandomSource(5);
        var uniform = SettingDistribution.Parse("x", JsonNode.Parse("""{ "intUniform": [2, 5] }"""));
        Assert.Equal([2L, 3L, 4L, 5L], Enumerable.Range(0, 400).Select(_ => uniform.Sample(source)!.GetValue<long>()).Distinct().Order());
        var logarithmic = SettingDistribution.Parse("x", JsonNode.Parse("""{ "intLogUniform": [16, 256] }"""));
        var draws = Enumerable.Range(0, 2000).Select(_ => logarithmic.Sample(source)!.GetValue<long>()).ToList();
        Assert.Equal(16, draws.Min());
        Assert.Equal(256, draws.Max());
        Assert.InRange(draws.Count(d => d < 64) / 2000.0, 0.44, 0.56);
    }

    [Theory]
    [InlineData("0-4", new long[] { 0, 1, 2, 3, 4 })]
    [InlineData("3", new long[] { 3 })]
    [InlineData("0,2,7-9", new long[] { 0, 2, 7, 8, 9 })]
    [InlineData(" 1 - 2 ", new long[] { 1, 2 })]
    public void Seed_lists_read_ranges_single_seeds_and_lists(string text, long[] seeds)
    {
        Assert.Equal(seeds, SeedList.Parse(text));
    }

    [Theory]
    [InlineData("""{ "experiment": "nope" }""", "unknown experiment 'nope'; allowed: toy.")]
    [InlineData("""{ "experiment": "toy", "seed": 3 }""", "unknown field 'seed' in the sweep spec; did you mean 'seeds'?")]
    [InlineData("""{ "grid": {} }""", "the sweep spec has no \"experiment\"; name the kind every trial runs (ppo, qlearn or compare).")]
    [InlineData("""{ "experiment": "toy", "grid": { "train.learnRate": [0.1] } }""", "grid: unknown setting 'train.learnRate'; did you mean 'train.learningRate'?")]
    [InlineData("""{ "experiment": "toy", "configuration": { "train": { "learnRate": 0.1 } } }""", "configuration: unknown setting 'train.learnRate'; did you mean 'train.learningRate'?")]
    [InlineData("""{ "experiment": "toy", "grid": { "train.clip": [] } }""", "grid 'train.clip' is an empty list; give at least one value.")]
    [InlineData("""{ "experiment": "toy", "grid": { "train.clip": 0.1 } }""", "grid 'train.clip' must be a list of values, got 0.1.")]
    [InlineData("""{ "experiment": "toy", "grid": { "train.clip": [0.1, 0.2, 0.1] } }""", "grid 'train.clip' lists 0.1 twice.")]
    [InlineData("""{ "experiment": "toy", "grid": { "train": [1] } }""", "grid: 'train' is a group of settings; name one setting inside it, such as 'train.learningRate'.")]
    [InlineData("""{ "experiment": "toy", "grid": { "seed": [1, 2] } }""", "grid: 'seed' is the seed; give the seeds with \"seeds\" (for example \"0-4\").")]
    [InlineData("""{ "experiment": "toy", "grid": { "train.clip": [0.1] }, "random": { "samples": 2, "settings": { "train.clip": { "uniform": [0.1, 0.3] } } } }""", "'train.clip' is in both the grid and random.settings; vary it in one of them.")]
    [InlineData("""{ "experiment": "toy", "random": { "samples": 2, "settings": { "train.learningRate": { "logUniform": [0, 0.1] } } } }""", "random setting 'train.learningRate': logUniform needs 0 < lo < hi, got [0,0.1].")]
    [InlineData("""{ "experiment": "toy", "random": { "samples": 2, "settings": { "train.clip": { "uniform": [0.3, 0.1] } } } }""", "random setting 'train.clip': uniform needs lo < hi, got [0.3,0.1].")]
    [InlineData("""{ "experiment": "toy", "random": { "samples": 2, "settings": { "train.clip": { "uniform": [0.1] } } } }""", "random setting 'train.clip': uniform needs two numbers [lo, hi], got [0.1].")]
    [InlineData("""{ "experiment": "toy", "random": { "samples": 2, "settings": { "steps": { "intUniform": [1.5, 4] } } } }""", "random setting 'steps': intUniform needs whole-number bounds, got [1.5,4].")]
    [InlineData("""{ "experiment": "toy", "random": { "samples": 2, "settings": { "train.clip": { "choice": [] } } } }""", "random setting 'train.clip': choice needs a non-empty list of values, got [].")]
    [InlineData("""{ "experiment": "toy", "random": { "samples": 2, "settings": { "train.clip": { "normal": [0, 1] } } } }""", "random setting 'train.clip' has the unknown distribution 'normal'; use one of {\"logUniform\": [lo, hi]}, {\"uniform\": [lo, hi]}, {\"intUniform\": [lo, hi]}, {\"intLogUniform\": [lo, hi]} or {\"choice\": [values]}.")]
    [InlineData("""{ "experiment": "toy", "random": { "samples": 0, "settings": { "train.clip": { "uniform": [0.1, 0.3] } } } }""", "random.samples must be a whole number from 1 to 10,000, got 0.")]
    [InlineData("""{ "experiment": "toy", "random": { "samples": 2, "settings": {} } }""", "random.settings is empty; name at least one setting to sample.")]
    [InlineData("""{ "experiment": "toy", "seeds": "5-1" }""", "seeds '5-1' is a backwards range; write the lower seed first ('1-5').")]
    [InlineData("""{ "experiment": "toy", "seeds": "0-2,4,2" }""", "seeds '0-2,4,2' names seed 2 twice.")]
    [InlineData("""{ "experiment": "toy", "seeds": "a-b" }""", "seeds 'a-b' is not a list of seeds; write a range such as '0-4', one seed such as '3', seeds and ranges such as '0,2,7-9', or a JSON list of whole numbers from 0.")]
    [InlineData("""{ "experiment": "toy", "maxParallel": 0 }""", "maxParallel must be a whole number from 1 to 1024, got 0.")]
    [InlineData("""{ "experiment": "toy", "slurm": { "mem": "lots" } }""", "slurm mem 'lots' is not in sbatch's notation; write megabytes or a number with K, M, G or T, such as 2G or 1500M.")]
    [InlineData("""{ "experiment": "toy", "name": "my sweep" }""", "name 'my sweep' may only hold letters, digits, '.', '_' and '-' (at most 100), since it names the sweep's directory and jobs.")]
    [InlineData("""{ "experiment": "toy", "grid": { "train.learningRate": [0.1, "fast"] } }""", "trial c01-seed0 (train.learningRate=fast): train.learningRate must be a positive number, got \"fast\".")]
    [InlineData("""{ "experiment": "toy", "grid": { "steps": [10, 20, 30] }, "random": { "samples": 100, "settings": { "train.clip": { "uniform": [0.1, 0.3] } } }, "seeds": "0-99" }""", "the spec expands to 30,000 trials (3 grid points x 100 samples x 100 seeds); the limit is 10,000.")]
    [InlineData("""{ "experiment": "toy", "variants": { "fast": { "train.learnRate": 0.1 } } }""", "variants.fast: unknown setting 'train.learnRate'; did you mean 'train.learningRate'?")]
    [InlineData("""{ "experiment": "toy", "variants": {} }""", "variants must be a non-empty object of names to settings, such as {\"squashed\": {\"ppo.distribution\": \"squashed-gaussian\"}}, got {}.")]
    [InlineData("""{ "experiment": "toy", "variants": { "a b": {} } }""", "variant name 'a b' may only hold letters, digits, '.', '_' and '-' (at most 60), since reports and labels show it.")]
    [InlineData("""{ "experiment": "toy", "variants": { "a": 3 } }""", "variant 'a' must be an object of dotted setting paths to values ({} for the base configuration), got 3.")]
    [InlineData("""{ "experiment": "toy", "variants": { "a": { "train.clip": 0.1 } }, "grid": { "train.clip": [0.2] } }""", "'train.clip' is set by the variants and varied in the grid; set it in one place.")]
    [InlineData("""{ "experiment": "toy", "variants": { "a": { "seed": 3 } } }""", "variants.a: 'seed' is the seed; give the seeds with \"seeds\" (for example \"0-4\").")]
    public void A_bad_spec_is_refused_in_one_sentence(string spec, string message)
    {
        var e = Assert.Throws<ExperimentConfigException>(() => Plan(spec));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Variants_are_named_bundles_of_settings_crossed_with_the_grid()
    {
        var manifest = Plan("""
            { "experiment": "toy",
              "variants": { "base": {}, "sgd-slow": { "train.algorithm": "sgd", "train.learningRate": 0.0005 }, "clipped": { "train.clip": 0.1 } },
              "grid": { "steps": [10, 20] },
              "seeds": "0-1" }
            """);

        Assert.Equal(["train.algorithm", "train.learningRate", "train.clip", "steps"], manifest.SettingPaths);
        Assert.Equal(
            ["c00 base steps=10", "c01 base steps=20", "c02 sgd-slow steps=10", "c03 sgd-slow steps=20", "c04 clipped steps=10", "c05 clipped steps=20"],
            manifest.Configurations.Select(c => $"{c.Key} {c.Label}"));
        // A variant leaves what the others change at the base configuration's value.
        var clipped = manifest.Configurations[4].Settings;
        Assert.Equal(["\"adam\"", "0.001", "0.1", "10"], manifest.SettingPaths.Select(p => clipped[p]!.ToJsonString()));
        var trial = manifest.Trials.Single(t => t.Id == "c03-seed1");
        Assert.Equal("""{"steps":20,"seed":1,"train":{"learningRate":0.0005,"hidden":[8,8],"algorithm":"sgd","clip":0.2},"failAtStep":null,"pauseAtStep":null}""", trial.Configuration.ToJsonString());
        Assert.Equal(12, manifest.Trials.Count);
    }

    [Fact]
    public void A_config_file_is_read_relative_to_the_spec_and_the_configuration_is_laid_over_it()
    {
        var directory = Path.Combine(Path.GetTempPath(), "rlw-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(directory, "specs"));
        File.WriteAllText(Path.Combine(directory, "base.json"), """{ "steps": 70, "train": { "clip": 0.1 } }""");
        var path = Path.Combine(directory, "specs", "s.json");
        File.WriteAllText(path, """{ "experiment": "toy", "configFile": "../base.json", "configuration": { "train": { "clip": 0.25 } } }""");
        var manifest = SweepPlanner.Plan(SweepSpec.Load(path), ToyKind.Catalog, Created);
        Assert.Equal("70", Value(manifest.BaseConfiguration, "steps"));
        Assert.Equal("0.25", Value(manifest.BaseConfiguration, "train.clip"));

        File.WriteAllText(path, """{ "experiment": "toy", "configFile": "base.json" }""");
        var e = Assert.Throws<ExperimentConfigException>(() => SweepSpec.Load(path));
        Assert.Equal($"configFile 'base.json' does not exist; it is read relative to the spec's directory ({Path.Combine(directory, "specs")}).", e.Message);
    }

    [Fact]
    public void The_manifest_survives_a_round_trip_through_sweep_json()
    {
        var manifest = Plan("""
            { "name": "rt", "experiment": "toy", "grid": { "train.hidden": [[4], [4, 4]] }, "seeds": "1-2", "maxParallel": 3,
              "slurm": { "cpusPerTask": 2, "mem": "1500M", "time": "00:30:00", "partition": "short", "extraArguments": ["--qos=low"] } }
            """);
        var directory = Path.Combine(Path.GetTempPath(), "rlw-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        manifest.Save(directory);
        var read = SweepManifest.Load(directory);
        Assert.Null(SweepDirectory.Difference(read, manifest));
        Assert.Equal(manifest.Configurations.Select(c => c.Label), read.Configurations.Select(c => c.Label));
        Assert.Equal("[4,4]", read.Configurations[1].Settings["train.hidden"]!.ToJsonString());
        Assert.Equal(3, read.MaxParallel);
        Assert.Equal(new SlurmSettings { CpusPerTask = 2, Mem = "1500M", Time = "00:30:00", Partition = "short", ExtraArguments = read.Slurm.ExtraArguments }, read.Slurm);
        Assert.Equal(["--qos=low"], read.Slurm.ExtraArguments);
        Assert.Equal(Created, read.CreatedUtc);
    }
}
