using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RLWorkbench.Experiments.Qlearn;
using RLWorkbench.Routing.Workflow;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Tests;

public class QlearnExperimentTests
{
    private static readonly QlearnExperimentKind Kind = new(new QlearnHost { Environment = _ => null });

    private static JsonObject Configuration(params (string Path, JsonNode? Value)[] settings)
    {
        var config = Kind.Defaults();
        foreach (var (path, value) in settings)
            ConfigPaths.Set(config, path, value);
        return config;
    }

    private static string NewRunDirectory() => Path.Combine(Path.GetTempPath(), "rlw-experiment-tests", Guid.NewGuid().ToString("N"));

    private static RunStore Store(string directory) => new(Path.GetDirectoryName(directory)!) { Mirror = null };

    private static RunScores ReadScores(string directory) =>
        JsonSerializer.Deserialize<RunScores>(File.ReadAllText(Path.Combine(directory, RunScores.FileName)), Tracking.Run.Json)!;

    private static double[] Numbers(string directory, string table, string column)
    {
        var lines = File.ReadAllLines(Path.Combine(directory, table + ".csv"));
        var index = Array.IndexOf(lines[0].Split(','), column);
        return lines.Skip(1).Select(l => double.Parse(l.Split(',')[index], CultureInfo.InvariantCulture)).ToArray();
    }

    private sealed class CancelAfter(int iterations, CancellationTokenSource source) : IExperimentProgress
    {
        public void Started(string description, long done, long total, string unit) { }

        public void Advanced(long done, double unitsPerSecond, string? detail)
        {
            if (done == iterations)
                source.Cancel();
        }

        public void Notice(string message) { }
    }

    private static async Task<ExperimentResult> Run(string directory, JsonObject config, IExperimentProgress? progress = null, bool reopen = false, CancellationToken cancel = default)
    {
        using var run = reopen ? Store(directory).Reopen(directory) : Store(directory).CreateIn(directory, Kind.Name);
        return await Kind.Create(config).RunAsync(run, progress ?? ExperimentProgress.Silent, cancel);
    }

    [Fact]
    public async Task A_simulated_run_scores_the_exact_value_of_its_greedy_routing()
    {
        var dir = NewRunDirectory();
        var result = await Run(dir, Configuration(("iterations", 20), ("seed", 5)));
        Assert.Equal(ExperimentOutcome.Finished, result.Outcome);
        var scores = ReadScores(dir);
        var values = Numbers(dir, QlearnExperiment.PolicyValueTable, "expected_reward");
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (double)i), Numbers(dir, QlearnExperiment.PolicyValueTable, "iteration"));
        Assert.Equal(values[^1], scores.Final);
        Assert.Equal(values.Max(), scores.Best);
        Assert.Equal(20, scores.Work);
        Assert.Equal("iterations", scores.WorkUnit);
        Assert.Equal(new CurveSource("policy_value", "iteration", "expected_reward"), scores.Curve);
        Assert.StartsWith("exact expected reward per task of the greedy routing (oracle 0.", scores.ScoreName, StringComparison.Ordinal);
        Assert.Equal(20, File.ReadAllLines(Path.Combine(dir, "iterations.csv")).Length - 1);
    }

    [Fact]
    public async Task A_stopped_run_continues_through_RunAsync_to_the_same_numbers_as_an_uninterrupted_one()
    {
        var config = Configuration(("iterations", 16), ("seed", 9));
        var whole = NewRunDirectory();
        await Run(whole, config);

        var dir = NewRunDirectory();
        using var stop = new CancellationTokenSource();
        var first = await Run(dir, config, new CancelAfter(6, stop), cancel: stop.Token);
        Assert.Equal(ExperimentOutcome.Stopped, first.Outcome);
        Assert.Null(ReadScores(dir).Final);
        Assert.Equal(RunStatus.Killed, RunReader.Read(dir).Info.Status);
        var done = QlearnSession.IterationsDone(dir);
        Assert.InRange(done, 6, 15);
        Assert.Equal(done, ReadScores(dir).Work);

        var second = await Run(dir, config, reopen: true);
        Assert.Equal(ExperimentOutcome.Finished, second.Outcome);
        Assert.Equal(Numbers(whole, "iterations", "adjusted_reward"), Numbers(dir, "iterations", "adjusted_reward"));
        Assert.Equal(Numbers(whole, QlearnExperiment.PolicyValueTable, "expected_reward"), Numbers(dir, QlearnExperiment.PolicyValueTable, "expected_reward"));
        Assert.Equal(ReadScores(whole).Final, ReadScores(dir).Final);

        // Finished: running it again has nothing to do, and says so before writing anything.
        var again = await Assert.ThrowsAsync<ExperimentConfigException>(() => Run(dir, config, reopen: true));
        Assert.Equal("The run already did 16 of 16 iterations; pass a larger --iterations to continue it.", again.Message);
    }

    [Fact]
    public async Task A_replayed_run_scores_its_last_ten_iterations_because_no_exact_value_exists()
    {
        var tape = Path.Combine(NewRunDirectory(), "tape.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(tape)!);
        await Run(NewRunDirectory(), Configuration(("iterations", 14), ("record", tape)));
        var dir = NewRunDirectory();
        await Run(dir, Configuration(("iterations", 14), ("replay", tape)));
        var scores = ReadScores(dir);
        var rewards = Numbers(dir, "iterations", "adjusted_reward");
        Assert.Equal(rewards.TakeLast(10).Average(), scores.Final);
        Assert.Equal(Enumerable.Range(0, 5).Max(i => rewards.Skip(i).Take(10).Average()), scores.Best);
        Assert.Equal(new CurveSource("iterations", "iteration", "adjusted_reward"), scores.Curve);
        Assert.False(File.Exists(Path.Combine(dir, QlearnExperiment.PolicyValueTable + ".csv")));
    }

    [Fact]
    public void Coordinator_defaults_fill_only_what_is_not_set_and_bad_settings_are_named()
    {
        var loadBalanced = QlearnExperimentKind.Resolve(Configuration(("learner", "load-balanced"), ("qLearning.gamma", 0.5)));
        Assert.Equal(50, loadBalanced.Iterations);
        Assert.Equal(0.98, loadBalanced.QLearning!.EpsilonDecay);
        Assert.Equal(0.5, loadBalanced.QLearning.Gamma);
        var shipped = QlearnExperimentKind.Resolve(Kind.Load(Path.Combine(RepositoryPaths.Root, "experiments", "qlearn.json")));
        Assert.Equal(new QlearnOptions().Resolve() with { Providers = shipped.Providers }, shipped);

        Assert.Equal("unknown setting 'qLearning.epsilon'; did you mean 'qLearning.epsilonStart'?",
            Assert.Throws<ExperimentConfigException>(() => ConfigPaths.Set(Kind.Defaults(), "qLearning.epsilon", 1)).Message);
        Assert.Equal("'iterations' must be a whole number, got \"many\".",
            Assert.Throws<ExperimentConfigException>(() => Kind.Create(Configuration(("iterations", "many")))).Message);
        Assert.Equal("Unknown learner 'sarsa'; the learners are base and load-balanced.",
            Assert.Throws<ExperimentConfigException>(() => Kind.Create(Configuration(("learner", "sarsa")))).Message);
        Assert.Contains("missing: OPENAI_API_KEY", Assert.Throws<ExperimentConfigException>(() => Kind.Create(Configuration(("backend", "real")))).Message);
    }
}
