using System.Text.Json.Nodes;
using RLWorkbench.Gym.Random;

namespace RLWorkbench.Experiments.Sweeps;

/// <summary>
/// Expands a spec into its trials against the experiment it names, checking everything before the first
/// trial starts: the setting paths exist, nothing is varied twice, and every trial's whole configuration
/// binds through the kind (so a value of the wrong type is refused now, not an hour in).
/// Expansion is deterministic: the same spec gives the same configurations and trials in the same order.
/// </summary>
public static class SweepPlanner
{
    public const int MaxTrials = 10_000;

    public static SweepManifest Plan(SweepSpec spec, ExperimentCatalog catalog, DateTimeOffset createdUtc)
    {
        var kind = catalog.Get(spec.Experiment);
        var baseConfiguration = spec.ConfigFile is null ? kind.Defaults() : kind.Load(spec.ConfigFile);
        Where("configuration", () => ConfigurationJson.Overlay(baseConfiguration, spec.Configuration));
        return Expand(kind, baseConfiguration, spec, createdUtc);
    }

    /// <summary>
    /// A sweep of one resolved configuration over seeds and nothing else (`ppo --seeds 0-4`): the command's
    /// configuration after its --config, options and --set, run once per seed.
    /// </summary>
    public static SweepManifest ForSeeds(IExperimentKind kind, JsonObject configuration, IReadOnlyList<long> seeds, string name, DateTimeOffset createdUtc)
    {
        var spec = new SweepSpec(name, kind.Name, null, new JsonObject(), [], null, seeds, null, new SlurmSettings(), null, null);
        return Expand(kind, configuration.DeepClone().AsObject(), spec, createdUtc);
    }

    private static SweepManifest Expand(IExperimentKind kind, JsonObject baseConfiguration, SweepSpec spec, DateTimeOffset createdUtc)
    {
        var seedPath = ConfigPaths.Canonical(baseConfiguration, kind.SeedPath);
        var grid = spec.Grid.Select(a => a with { Path = SettingPath(baseConfiguration, a.Path, "grid", seedPath) }).ToList();
        var random = spec.Random?.Settings.Select(s => s with { Path = SettingPath(baseConfiguration, s.Path, "random.settings", seedPath) }).ToList() ?? [];
        var settingPaths = grid.Select(a => a.Path).Concat(random.Select(s => s.Path)).ToList();
        var repeated = settingPaths.GroupBy(p => p, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null)
        {
            throw new ExperimentConfigException(grid.Count(a => a.Path == repeated.Key) == 1
                ? $"'{repeated.Key}' is in both the grid and random.settings; vary it in one of them."
                : $"'{repeated.Key}' is named twice in the {(grid.Any(a => a.Path == repeated.Key) ? "grid" : "random settings")}.");
        }

        var seeds = spec.Seeds ?? [SeedOf(baseConfiguration, seedPath)];
        var samples = spec.Random?.Samples ?? 1;
        var gridPoints = grid.Aggregate(1L, (n, a) => n * a.Values.Count);
        if (gridPoints * samples * seeds.Count > MaxTrials)
            throw new ExperimentConfigException($"the spec expands to {gridPoints * samples * seeds.Count:N0} trials ({gridPoints:N0} grid points x {samples:N0} samples x {seeds.Count:N0} seeds); the limit is {MaxTrials:N0}.");

        var configurations = Configurations(grid, random, spec.Random, settingPaths, (int)gridPoints);
        var trials = new List<SweepTrial>();
        // Seed-major order: every configuration's first seed runs before any second seed, so a sweep cut
        // short (or its first Slurm array tasks) already compares every configuration.
        foreach (var seed in seeds)
        {
            foreach (var configuration in configurations)
            {
                var trialConfiguration = baseConfiguration.DeepClone().AsObject();
                foreach (var (path, value) in configuration.Settings)
                    ConfigPaths.Set(trialConfiguration, path, value);
                ConfigPaths.Set(trialConfiguration, seedPath, JsonValue.Create(seed));
                var id = $"{configuration.Key}-seed{seed}";
                try
                {
                    kind.Create(trialConfiguration.DeepClone().AsObject());
                }
                catch (ExperimentConfigException e)
                {
                    throw new ExperimentConfigException($"trial {id} ({configuration.Label}): {e.Message}");
                }
                trials.Add(new SweepTrial(trials.Count, id, configuration.Key, seed, $"{SweepLayout.TrialsFolder}/{id}", trialConfiguration));
            }
        }
        return new SweepManifest(spec.Name, kind.Name, spec.SpecPath, baseConfiguration, settingPaths, configurations, seeds, trials, spec.Slurm, spec.MaxParallel, createdUtc);
    }

    /// <summary>
    /// Grid points (the last grid setting varies fastest) repeated once per random sample, each repeat with
    /// fresh draws, as Ray Tune's num_samples repeats a grid. A draw that repeats an earlier configuration
    /// exactly (a choice-only search, say) is dropped, so no configuration runs twice.
    /// </summary>
    private static List<SweepConfiguration> Configurations(List<GridAxis> grid, List<RandomSetting> random, RandomSearch? search, List<string> settingPaths, int gridPoints)
    {
        var source = new SeededRandomSource(search?.Seed ?? 0);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var settingsList = new List<Dictionary<string, JsonNode?>>();
        for (var sample = 0; sample < (search?.Samples ?? 1); sample++)
        {
            for (var point = 0; point < gridPoints; point++)
            {
                var settings = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
                var rest = point;
                for (var axis = grid.Count - 1; axis >= 0; axis--)
                {
                    var values = grid[axis].Values;
                    settings[grid[axis].Path] = values[rest % values.Count]?.DeepClone();
                    rest /= values.Count;
                }
                foreach (var setting in random)
                    settings[setting.Path] = setting.Distribution.Sample(source);
                if (seen.Add(string.Join('\u0001', settingPaths.Select(p => settings[p]?.ToJsonString() ?? "null"))))
                    settingsList.Add(settings);
            }
        }
        var width = Math.Max(2, (settingsList.Count - 1).ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        return settingsList.Select((settings, i) =>
        {
            var ordered = settingPaths.ToDictionary(p => p, p => settings[p], StringComparer.Ordinal);
            var label = ordered.Count == 0 ? "base" : string.Join(' ', ordered.Select(s => $"{s.Key}={SweepSpec.Show(s.Value)}"));
            return new SweepConfiguration("c" + i.ToString("D" + width, System.Globalization.CultureInfo.InvariantCulture), ordered, label);
        }).ToList();
    }

    private static string SettingPath(JsonObject configuration, string path, string where, string seedPath)
    {
        var canonical = Where(where, () => ConfigPaths.Canonical(configuration, path));
        if (ConfigPaths.Get(configuration, canonical) is JsonObject { Count: > 0 })
        {
            var example = ConfigPaths.Leaves(configuration).First(l => l.StartsWith(canonical + ".", StringComparison.Ordinal));
            throw new ExperimentConfigException($"{where}: '{path}' is a group of settings; name one setting inside it, such as '{example}'.");
        }
        if (canonical == seedPath)
            throw new ExperimentConfigException($"{where}: '{path}' is the seed; give the seeds with \"seeds\" (for example \"0-4\").");
        return canonical;
    }

    private static long SeedOf(JsonObject configuration, string seedPath) =>
        long.TryParse(ConfigPaths.Get(configuration, seedPath)?.ToJsonString(), out var seed)
            ? seed
            : throw new ExperimentConfigException($"the configuration's seed '{seedPath}' is not a whole number; give the seeds with \"seeds\".");

    private static T Where<T>(string where, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (ExperimentConfigException e)
        {
            throw new ExperimentConfigException($"{where}: {e.Message}");
        }
    }

    private static void Where(string where, Action action) => Where(where, () =>
    {
        action();
        return 0;
    });
}
