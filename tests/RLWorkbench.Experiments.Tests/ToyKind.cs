using System.Text.Json;
using System.Text.Json.Nodes;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Tests;

/// <summary>
/// A tiny experiment kind for the sweep tests: a "training" of `steps` steps whose final score is
/// 1000 x learningRate + seed, so every number a test checks is known in advance. It saves a checkpoint
/// (artifacts/checkpoint.json) when stopped and continues from it, as the real kinds do. failAtStep throws
/// there (a fault that only shows at run time); pauseAtStep waits there for cancellation on a first
/// attempt, so a test can stop a trial at a known step.
/// </summary>
internal sealed class ToyKind : IExperimentKind
{
    public string Name => "toy";

    public string SeedPath => "seed";

    public static ExperimentCatalog Catalog => new([new ToyKind()]);

    public JsonObject Defaults() => JsonNode.Parse("""
        { "steps": 100, "seed": 0,
          "train": { "learningRate": 0.001, "hidden": [8, 8], "algorithm": "adam", "clip": 0.2 },
          "failAtStep": null, "pauseAtStep": null }
        """)!.AsObject();

    public JsonObject Load(string path)
    {
        var configuration = Defaults();
        var file = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        foreach (var leaf in ConfigPaths.Leaves(file))
            ConfigPaths.Set(configuration, leaf, ConfigPaths.Get(file, leaf));
        return configuration;
    }

    public IExperiment Create(JsonObject configuration)
    {
        var rate = configuration["train"]!["learningRate"];
        if (rate is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || v.GetValue<double>() <= 0)
            throw new ExperimentConfigException($"train.learningRate must be a positive number, got {rate?.ToJsonString() ?? "null"}.");
        if (configuration["steps"] is not JsonValue s || s.GetValueKind() != JsonValueKind.Number || !long.TryParse(s.ToJsonString(), out _))
            throw new ExperimentConfigException($"steps must be a whole number, got {configuration["steps"]?.ToJsonString() ?? "null"}.");
        return new ToyExperiment(configuration);
    }

    private sealed class ToyExperiment(JsonObject configuration) : IExperiment
    {
        public string Kind => "toy";

        public JsonObject Configuration => configuration;

        public Task<ExperimentResult> RunAsync(Run run, IExperimentProgress progress, CancellationToken cancel)
        {
            var steps = configuration["steps"]!.GetValue<long>();
            var seed = configuration["seed"]!.GetValue<long>();
            var failAt = configuration["failAtStep"]?.GetValue<long>();
            var checkpoint = run.ArtifactPath("checkpoint.json");
            var pauseAt = configuration["pauseAtStep"]?.GetValue<long>();
            var resumed = File.Exists(checkpoint);
            var done = resumed ? long.Parse(File.ReadAllText(checkpoint)) : 0;
            run.WriteConfig(configuration);
            progress.Started("toy training", done, steps, "steps");
            var table = run.Table("curve", ["step", "score"]);
            var final = 1000 * configuration["train"]!["learningRate"]!.GetValue<double>() + seed;
            while (done < steps)
            {
                var pausing = pauseAt is not null && !resumed;
                if (pausing && done == pauseAt)
                    cancel.WaitHandle.WaitOne();
                // A pausing first attempt stops only at its pause step, whenever the test cancels.
                if (cancel.IsCancellationRequested && (!pausing || done == pauseAt))
                {
                    File.WriteAllText(checkpoint, done.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    return Task.FromResult(End(run, RunStatus.Killed, ExperimentOutcome.Stopped, null, done));
                }
                done++;
                if (done == failAt)
                    throw new InvalidOperationException($"toy failure at step {done}");
                table.AppendRow(done, final * done / steps);
                progress.Advanced(done, 1000, null);
            }
            return Task.FromResult(End(run, RunStatus.Finished, ExperimentOutcome.Finished, final, done));
        }

        private static ExperimentResult End(Run run, RunStatus status, ExperimentOutcome outcome, double? final, long done)
        {
            var scores = new RunScores("toy score", final, final, done, "steps", 1000, new CurveSource("curve", "step", "score"));
            run.WriteJson(RunScores.FileName, scores);
            run.Finish(status);
            return new ExperimentResult(outcome, scores);
        }
    }
}
