using System.Text.Json.Nodes;
using RLWorkbench.Experiments.Qlearn;
using RLWorkbench.Routing.Workflow;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Tests;

/// <summary>A crafted qlearn checkpoint is refused naming the file and the field, and the run's rows stay as they were.</summary>
public class QlearnCheckpointTests
{
    private static readonly QlearnExperimentKind Kind = new(new QlearnHost { Environment = _ => null });

    private static JsonObject Iterations(int n)
    {
        var config = Kind.Defaults();
        ConfigPaths.Set(config, "iterations", n);
        return config;
    }

    [Theory]
    [InlineData("iterationsDone", "-3", "'iterationsDone' must be 0 or more, got -3.")]
    [InlineData("randomState", "[0, 0, 0, 0]", "'randomState' must be four numbers, not all zero.")]
    [InlineData("randomState", "[1, 2]", "'randomState' must be four numbers, not all zero.")]
    [InlineData("coordinator", "null", "'coordinator' is missing.")]
    public async Task A_crafted_checkpoint_field_is_refused_and_no_row_is_dropped(string field, string value, string problem)
    {
        var dir = Path.Combine(Path.GetTempPath(), "rlw-experiment-tests", Guid.NewGuid().ToString("N"));
        var store = new RunStore(Path.GetDirectoryName(dir)!) { Mirror = null };
        using (var run = store.CreateIn(dir, Kind.Name))
            Assert.Equal(ExperimentOutcome.Finished, (await Kind.Create(Iterations(3)).RunAsync(run, ExperimentProgress.Silent, CancellationToken.None)).Outcome);
        var checkpoint = Path.Combine(dir, "artifacts", "checkpoint.json");
        var json = JsonNode.Parse(File.ReadAllText(checkpoint))!.AsObject();
        json[field] = JsonNode.Parse(value);
        File.WriteAllText(checkpoint, json.ToJsonString());

        using (var run = store.Reopen(dir))
        {
            var e = await Assert.ThrowsAsync<ExperimentConfigException>(() => Kind.Create(Iterations(5)).RunAsync(run, ExperimentProgress.Silent, CancellationToken.None));
            Assert.Equal($"{checkpoint} is not a usable qlearn checkpoint: {problem}", e.Message);
        }
        Assert.Equal(1 + 3, File.ReadAllLines(Path.Combine(dir, "iterations.csv")).Length);
    }
}
