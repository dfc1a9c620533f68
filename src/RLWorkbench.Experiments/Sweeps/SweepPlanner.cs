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
        var variants = (spec.Variants ?? []).Select(v => v with
        {
            Settings = v.Settings.Select(s => (SettingPath(baseConfiguration, s.Path, $"variants.{v.Name}", seedPath), s.Value)).ToList(),
        }).ToList();
        var variantPaths = variants.SelectMany(v => v.Settings.Select(s => s.Path)).Distinct(StringComparer.Ordinal).ToList();
        var grid = spec.Grid.Select(a => a with { Path = SettingPath(baseConfiguration, a.Path, "grid", seedPath) }).ToList();
        var random = spec.Random?.Settings.Select(s => s with { Path = SettingPath(baseConfiguration, s.Path, "random.settings", seedPath) }).ToList() ?? [];
        var varied = grid.Select(a => a.Path).Concat(random.Select(s => s.Path)).ToList();
        if (variantPaths.FirstOrDefault(varied.Contains) is { } both)
            throw new ExperimentConfigException($"'{both}' is set by the variants and varied in the {(grid.Any(a => a.Path == both) ? "grid" : "random settings")}; set it in one place.");
        foreach (var variant in variants)
        {
            if (variant.Settings.GroupBy(s => s.Path, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw new ExperimentConfigException($"variants.{variant.Name}: '{twice.Key}' is set twice.");
        }
        var settingPaths = variantPaths.Concat(varied).ToList();
        var repeated = varied.GroupBy(p => p, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null)
        {
            throw new ExperimentConfigException(grid.Count(a => a.Path == repeated.Key) == 1
                ? $"'{repeated.Key}' is in both the grid and random.settings; vary it in one of them."
                : $"'{repeated.Key}' is named twice in the {(grid.Any(a => a.Path == repeated.Key) ? "grid" : "random settings")}.");
        }

        var seeds = spec.Seeds ?? [SeedOf(baseConfiguration, seedPath)];
        var samples = spec.Random?.Samples ?? 1;
        var gridPoints = grid.Aggregate(1L, (n, a) => n * a.Values.Count);
        var bundles = Math.Max(1, variants.Count);
        if (bundles * gridPoints * samples * seeds.Count > MaxTrials)
            throw new ExperimentConfigException($"the spec expands to {bundles * gridPoints * samples * seeds.Count:N0} trials ({(variants.Count > 0 ? $"{variants.Count:N0} variants x " : "")}{gridPoints:N0} grid points x {samples:N0} samples x {seeds.Count:N0} seeds); the limit is {MaxTrials:N0}.");

        var configurations = Configurations(baseConfiguration, variants, variantPaths, grid, random, spec.Random, settingPaths, (int)gridPoints);
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
    /// For each variant in the spec's order (or once without variants): grid points (the last grid setting
    /// varies fastest) repeated once per random sample, each repeat with fresh draws, as Ray Tune's
    /// num_samples repeats a grid. A variant leaves the settings other variants change at the base value. A
    /// draw that repeats an earlier configuration exactly (a choice-only search, say) is dropped, so no
    /// configuration runs twice.
    /// </summary>
    private static List<SweepConfiguration> Configurations(JsonObject baseConfiguration, List<SweepVariant> variants, List<string> variantPaths,
        List<GridAxis> grid, List<RandomSetting> random, RandomSearch? search, List<string> settingPaths, int gridPoints)
    {
        var source = new SeededRandomSource(search?.Seed ?? 0);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var settingsList = new List<(string? Variant, Dictionary<string, JsonNode?> Settings)>();
        foreach (var variant in variants.Count == 0 ? [null] : variants.Cast<SweepVariant?>())
        for (var sample = 0; sample < (search?.Samples ?? 1); sample++)
        {
            for (var point = 0; point < gridPoints; point++)
            {
                var settings = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
                foreach (var path in variantPaths)
                    settings[path] = ConfigPaths.Get(baseConfiguration, path)?.DeepClone();
                foreach (var (path, value) in variant?.Settings ?? [])
                    settings[path] = value?.DeepClone();
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
                    settingsList.Add((variant?.Name, settings));
            }
        }
        var width = Math.Max(2, (settingsList.Count - 1).ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        return settingsList.Select((entry, i) =>
        {
            var ordered = settingPaths.ToDictionary(p => p, p => entry.Settings[p], StringComparer.Ordinal);
            // A variant is named by itself; what the grid and random search add follows its name.
            var shown = entry.Variant is null ? ordered : ordered.Where(s => !variantPaths.Contains(s.Key));
            var settingsLabel = string.Join(' ', shown.Select(s => $"{s.Key}={SweepSpec.Show(s.Value)}"));
            var label = entry.Variant is null
                ? (settingsLabel.Length == 0 ? "base" : settingsLabel)
                : (settingsLabel.Length == 0 ? entry.Variant : $"{entry.Variant} {settingsLabel}");
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
