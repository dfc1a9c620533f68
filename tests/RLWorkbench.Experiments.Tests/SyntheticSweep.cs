using System.Text.Json.Nodes;
using RLWorkbench.Experiments.Sweeps;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Tests;

/// <summary>
/// A sweep directory written by hand, as the runner and its workers would leave it: sweep.json, and trial run
/// directories with exactly the files the report reads (status, config, eval.csv, metrics.csv, eval_milestones.csv,
/// scores.json). Removed with everything in it when disposed.
/// </summary>
internal sealed class SyntheticSweep : IDisposable
{
    public static readonly DateTimeOffset Created = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public static readonly CurveSource EvalCurve = new("eval", "step", "mean_reward");

    public const string ScoreName = "deterministic evaluation mean return (100 episodes)";

    public SyntheticSweep(string settingPath, IReadOnlyList<JsonNode> values, IReadOnlyList<long> seeds, JsonObject? baseConfiguration = null, string experiment = "ppo")
    {
        Directory = Path.Combine(Path.GetTempPath(), "rlw-report-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        var baseConfig = baseConfiguration ?? PpoConfiguration();
        var configurations = values
            .Select((v, i) => new SweepConfiguration($"c{i:00}", new Dictionary<string, JsonNode?> { [settingPath] = v.DeepClone() }, $"{settingPath}={v.ToJsonString()}"))
            .ToList();
        var trials = new List<SweepTrial>();
        foreach (var configuration in configurations)
        {
            foreach (var seed in seeds)
            {
                var resolved = baseConfig.DeepClone().AsObject();
                ConfigPaths.Set(resolved, settingPath, configuration.Settings[settingPath]);
                if (experiment == "ppo")
                    ConfigPaths.Set(resolved, "ppo.seed", JsonValue.Create(seed));
                var id = $"{configuration.Key}-seed{seed}";
                trials.Add(new SweepTrial(trials.Count, id, configuration.Key, seed, $"{SweepLayout.TrialsFolder}/{id}", resolved));
            }
        }
        Manifest = new SweepManifest("lr-scan", experiment, "experiments/sweep-lr.json", baseConfig, [settingPath], configurations, seeds, trials, new SlurmSettings(), null, Created);
        Manifest.Save(Directory);
    }

    public string Directory { get; }

    public SweepManifest Manifest { get; }

    public static JsonObject PpoConfiguration(string variant = "base", string layout = "seed67", int agents = 4, bool milestones = true) => JsonNode.Parse($$"""
        { "steps": 20000, "environment": { "variant": "{{variant}}", "layout": "{{layout}}", "agents": {{agents}} },
          "ppo": { "learningRate": 0.0003, "seed": 0 }, "evalEverySteps": 5000, "milestoneSteps": {{(milestones ? "[10000]" : "[]")}} }
        """)!.AsObject();

    public SweepTrial Trial(string key, long seed) => Manifest.Trials.Single(t => t.ConfigurationKey == key && t.Seed == seed);

    /// <summary>Writes one trial's run directory as a worker leaves it in <paramref name="state"/> (nothing for NotStarted).</summary>
    public void Write(
        string key,
        long seed,
        TrialState state,
        double? final = null,
        double? best = null,
        double? perSecond = null,
        (double Step, double Mean)[]? curve = null,
        double[]? approxKl = null,
        (double Step, double Mean)[]? milestones = null,
        string? message = null)
    {
        if (state == TrialState.NotStarted)
            return;
        var trial = Trial(key, seed);
        var directory = SweepLayout.TrialDirectory(Directory, trial);
        using (var run = new RunStore(Path.GetDirectoryName(directory)!) { Mirror = null }.CreateIn(directory, Manifest.Experiment, now: Created))
        {
            run.WriteConfig(trial.Configuration);
            if (curve is not null)
            {
                var eval = run.Table("eval", ["step", "mean_reward", "std_reward", "min_reward", "max_reward", "completion_rate"]);
                foreach (var (step, mean) in curve)
                    eval.AppendRow(step, mean, 10, mean - 20, mean + 20, 0.8);
            }
            if (approxKl is not null)
            {
                var metrics = run.Table("metrics", ["step", "time_s", "approx_kl"]);
                for (var i = 0; i < approxKl.Length; i++)
                    metrics.AppendRow((i + 1) * 4096, i * 1.5, approxKl[i]);
            }
            if (milestones is not null)
            {
                var table = run.Table("eval_milestones", ["step", "episodes", "mean_reward", "std_reward", "min_reward", "max_reward", "completion_rate"]);
                foreach (var (step, mean) in milestones)
                    table.AppendRow(step, 100, mean, 12, mean - 30, mean + 30, 0.9);
            }
            run.WriteJson(RunScores.FileName, new RunScores(ScoreName, state == TrialState.Finished ? final : null, best, 20480, "steps", perSecond, EvalCurve));
            run.Finish(state switch
            {
                TrialState.Finished => RunStatus.Finished,
                TrialState.Failed => RunStatus.Failed,
                _ => RunStatus.Killed,
            }, message);
        }
        if (state == TrialState.Running)
        {
            // A worker still at it (or dead without a word): status.json says running. Opened without a sink and
            // never disposed, so nothing marks it ended.
            RunStore.Open(directory).MarkRunning();
        }
    }

    public string Read(string file) => File.ReadAllText(Path.Combine(Directory, file));

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
