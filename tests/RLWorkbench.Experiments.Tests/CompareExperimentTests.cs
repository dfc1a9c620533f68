using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RLWorkbench.Experiments.Compare;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Tests;

public class CompareExperimentTests
{
    private static readonly CompareExperimentKind Kind = new(_ => null);

    private static string NewRunDirectory() => Path.Combine(Path.GetTempPath(), "rlw-experiment-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task A_comparison_scores_its_first_learner_from_the_report_tables()
    {
        var config = Kind.Load(Path.Combine(RepositoryPaths.Root, "experiments", "compare-smoke.json"));
        ConfigPaths.Set(config, "learners", JsonNode.Parse("""["qlearn", "ucb1", "oracle"]"""));
        ConfigPaths.Set(config, "budgetCalls", 200);
        var dir = NewRunDirectory();
        var events = new List<string>();
        ExperimentResult result;
        using (var run = new RunStore(Path.GetDirectoryName(dir)!) { Mirror = null }.CreateIn(dir, Kind.Name))
            result = await Kind.Create(config).RunAsync(run, new Recorder(events), CancellationToken.None);

        Assert.Equal(ExperimentOutcome.Finished, result.Outcome);
        var scores = JsonSerializer.Deserialize<RunScores>(File.ReadAllText(Path.Combine(dir, RunScores.FileName)), Run.Json)!;
        var summary = File.ReadAllLines(Path.Combine(dir, "summary.csv"));
        var header = summary[0].Split(',');
        var qlearn = summary.Skip(1).Select(l => l.Split(',')).Single(f => f[0] == "qlearn");
        Assert.Equal(double.Parse(qlearn[Array.IndexOf(header, "final_expected_reward")], CultureInfo.InvariantCulture), scores.Final);
        var curve = File.ReadAllLines(Path.Combine(dir, "curve_summary.csv")).Skip(1).Select(l => l.Split(',')).Where(f => f[0] == "qlearn").ToList();
        Assert.Equal(curve.Max(f => double.Parse(f[2], CultureInfo.InvariantCulture)), scores.Best);
        Assert.Equal(curve.Select(f => $"{f[1]},{f[2]}"), File.ReadAllLines(Path.Combine(dir, "primary_curve.csv")).Skip(1));
        Assert.Equal(3 * 2 * 200, scores.Work);
        Assert.Equal("calls", scores.WorkUnit);
        Assert.Equal(new CurveSource("primary_curve", "calls", "expected_reward"), scores.Curve);
        Assert.StartsWith("qlearn: exact expected reward", scores.ScoreName, StringComparison.Ordinal);
        Assert.Equal("started 0 1200 calls", events[0]);
        Assert.Equal(6, events.Count(e => e.StartsWith("advanced", StringComparison.Ordinal)));
        Assert.Equal("advanced 1200", events.Last(e => e.StartsWith("advanced", StringComparison.Ordinal)));
        Assert.Equal(RunStatus.Finished, RunReader.Read(dir).Info.Status);
    }

    [Fact]
    public async Task A_cancelled_comparison_is_stopped_with_scores_and_a_second_attempt_starts_over()
    {
        var config = Kind.Load(Path.Combine(RepositoryPaths.Root, "experiments", "compare-smoke.json"));
        ConfigPaths.Set(config, "learners", JsonNode.Parse("""["random", "oracle"]"""));
        var dir = NewRunDirectory();
        var store = new RunStore(Path.GetDirectoryName(dir)!) { Mirror = null };
        using var stop = new CancellationTokenSource();
        ExperimentResult first;
        using (var run = store.CreateIn(dir, Kind.Name))
            first = await Kind.Create(config).RunAsync(run, new Recorder([], () => stop.Cancel()), stop.Token);
        Assert.Equal(ExperimentOutcome.Stopped, first.Outcome);
        Assert.Null(first.Scores.Final);
        Assert.Equal(400, first.Scores.Work);
        Assert.Equal(RunStatus.Killed, RunReader.Read(dir).Info.Status);

        using (var run = store.Reopen(dir))
            Assert.Equal(ExperimentOutcome.Finished, (await Kind.Create(config).RunAsync(run, ExperimentProgress.Silent, CancellationToken.None)).Outcome);
        Assert.Equal(1 + 2 * 2, File.ReadAllLines(Path.Combine(dir, "seeds.csv")).Length);
    }

    [Fact]
    public void Backend_settings_are_checked_as_settings_and_the_catalog_knows_every_kind()
    {
        var real = Kind.Defaults();
        ConfigPaths.Set(real, "backend", "real");
        Assert.Equal("A live comparison needs a hard spending cap: set budgetUsd (--budget-usd <dollars>).", Assert.Throws<ExperimentConfigException>(() => Kind.Create(real)).Message);
        ConfigPaths.Set(real, "budgetUsd", 1);
        // Live calls cost money: no default call budget for them.
        Assert.StartsWith("A live comparison needs an explicit call budget", Assert.Throws<ExperimentConfigException>(() => Kind.Create(real)).Message);
        ConfigPaths.Set(real, "budgetCalls", 100_000);
        Assert.Contains("missing: OPENAI_API_KEY", Assert.Throws<ExperimentConfigException>(() => Kind.Create(real)).Message);
        // A simulated run's config.json records the budget it ran with, the default one included.
        Assert.Equal(100_000, Kind.Create(Kind.Defaults()).Configuration["budgetCalls"]!.GetValue<int>());
        var typo = Kind.Defaults();
        Assert.Equal("unknown setting 'ppo.trainer.learnRate'; did you mean 'ppo.trainer.learningRate'?",
            Assert.Throws<ExperimentConfigException>(() => ConfigPaths.Set(typo, "ppo.trainer.learnRate", 1)).Message);

        Assert.Equal(["ppo", "qlearn", "compare"], ExperimentCatalog.Default.All.Select(k => k.Name));
        Assert.Equal(["ppo.seed", "seed", "firstSeed"], ExperimentCatalog.Default.All.Select(k => k.SeedPath));
        foreach (var kind in ExperimentCatalog.Default.All)
            Assert.NotNull(ConfigPaths.Get(kind.Defaults(), kind.SeedPath));
        Assert.Equal("unknown experiment 'dqn'; allowed: ppo, qlearn, compare.", Assert.Throws<ExperimentConfigException>(() => ExperimentCatalog.Default.Get("dqn")).Message);
    }

    private sealed class Recorder(List<string> events, Action? onFirstSeed = null) : IExperimentProgress
    {
        public void Started(string description, long done, long total, string unit) => events.Add($"started {done} {total} {unit}");

        public void Advanced(long done, double unitsPerSecond, string? detail)
        {
            events.Add($"advanced {done}");
            onFirstSeed?.Invoke();
        }

        public void Notice(string message) => events.Add("notice " + message);
    }
}
