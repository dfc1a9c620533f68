using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RLWorkbench.Experiments.Ppo;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Tests;

public class PpoExperimentTests
{
    private static readonly PpoExperimentKind Kind = new();

    /// <summary>Four rollouts of 128 steps on the Phase 1 environment with a tiny network: about a second.</summary>
    private static JsonObject Tiny(Action<JsonObject>? change = null)
    {
        var config = Kind.Defaults();
        foreach (var (path, value) in new (string, JsonNode?)[]
        {
            ("steps", 512), ("device", "cpu"), ("ppo.numEnvs", 2), ("ppo.stepsPerEnv", 64), ("ppo.minibatchSize", 64), ("ppo.epochs", 1),
            ("ppo.hiddenSizes", new JsonArray(16)), ("ppo.seed", 3), ("evalEverySteps", 128), ("evalEpisodes", 2), ("checkpointEverySteps", 128),
            ("finalEvalEpisodes", 3), ("milestoneSteps", new JsonArray(200)), ("milestoneEvalEpisodes", 2),
        })
        {
            ConfigPaths.Set(config, path, value);
        }
        change?.Invoke(config);
        return config;
    }

    private static string NewRunDirectory() => Path.Combine(Path.GetTempPath(), "rlw-experiment-tests", Guid.NewGuid().ToString("N"));

    private static Run CreateRun(string directory) => new RunStore(Path.GetDirectoryName(directory)!) { Mirror = null }.CreateIn(directory, Kind.Name);

    private static RunScores ReadScores(string directory) =>
        JsonSerializer.Deserialize<RunScores>(File.ReadAllText(Path.Combine(directory, RunScores.FileName)), Run.Json)!;

    private static string[] Column(string directory, string table, string column)
    {
        var lines = File.ReadAllLines(Path.Combine(directory, table + ".csv"));
        var index = Array.IndexOf(lines[0].Split(','), column);
        return lines.Skip(1).Select(l => l.Split(',')[index]).ToArray();
    }

    private sealed class Recorded : IExperimentProgress
    {
        public List<string> Events { get; } = [];

        public Action<long>? OnAdvanced { get; init; }

        public void Started(string description, long done, long total, string unit) => Events.Add($"started {done} {total} {unit}");

        public void Advanced(long done, double unitsPerSecond, string? detail)
        {
            Events.Add($"advanced {done}");
            OnAdvanced?.Invoke(done);
        }

        public void Notice(string message) => Events.Add("notice " + message);
    }

    [Fact]
    public async Task A_tiny_run_writes_scores_that_match_its_evaluation_rows_exactly()
    {
        var dir = NewRunDirectory();
        var experiment = Kind.Create(Tiny());
        var progress = new Recorded();
        ExperimentResult result;
        using (var run = CreateRun(dir))
            result = await experiment.RunAsync(run, progress, CancellationToken.None);

        Assert.Equal(ExperimentOutcome.Finished, result.Outcome);
        var scores = ReadScores(dir);
        Assert.Equal(result.Scores, scores with { Curve = result.Scores.Curve });
        Assert.Equal(new CurveSource("eval", "step", "mean_reward"), scores.Curve);
        Assert.Equal(512, scores.Work);
        Assert.Equal("steps", scores.WorkUnit);

        Assert.Equal(["128", "256", "384", "512"], Column(dir, "eval", "step"));
        var periodic = Column(dir, "eval", "mean_reward").Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        // The best includes the final evaluation, so it is never below it.
        Assert.Equal(Math.Max(periodic.Max(), scores.Final!.Value), scores.Best);

        // Milestone 200 is reached exactly (2 environments: 2 steps per vector step); the final evaluation is the last row.
        Assert.Equal(["200", "512"], Column(dir, PpoExperiment.MilestoneTable, "step"));
        Assert.Equal(["2", "3"], Column(dir, PpoExperiment.MilestoneTable, "episodes"));
        Assert.Equal(double.Parse(Column(dir, PpoExperiment.MilestoneTable, "mean_reward")[^1], CultureInfo.InvariantCulture), scores.Final);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!;
        Assert.Equal(scores.Final, summary["finalEvaluation"]!["mean"]!.GetValue<double>());
        Assert.Equal(3, summary["finalEvaluation"]!["episodes"]!.GetValue<int>());
        Assert.Equal(scores.Best, summary["bestEvaluationMean"]!.GetValue<double>());
        Assert.Equal(scores.Final > periodic.Max(), summary["bestEvaluationIsFinal"]!.GetValue<bool>());
        Assert.Equal(summary["stepsPerSecond"]!.GetValue<double>(), scores.WorkPerSecond!.Value, 6);

        Assert.Equal(["128", "256", "384", "512"], Column(dir, "metrics", "step"));
        foreach (var file in new[] { "checkpoint.bin", "best_model.bin", "final_model.bin" })
            Assert.True(File.Exists(Path.Combine(dir, "artifacts", file)), file);
        Assert.Equal(RunStatus.Finished, RunReader.Read(dir).Info.Status);
        Assert.Equal(experiment.Configuration.ToJsonString(), JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.ToJsonString());
        Assert.Equal(["started 0 512 steps", "advanced 128", "advanced 256", "advanced 384", "advanced 512"], progress.Events.Where(e => !e.StartsWith("notice", StringComparison.Ordinal)));
        Assert.Single(progress.Events, e => e.StartsWith("notice First deterministic evaluation at step 128: ", StringComparison.Ordinal));

        // The same run for TensorBoard: one event file whose scalars are the CSV rows under SB3's names.
        var eventFile = Assert.Single(Directory.GetFiles(Path.Combine(dir, "tensorboard"), "events.out.tfevents.*"));
        var scalars = RLWorkbench.Ppo.Tests.EventFileReader.Scalars(RLWorkbench.Ppo.Tests.EventFileReader.Read(eventFile));
        // Like SB3, a rollout with no finished episode yet (200-step episodes, 128 steps a rollout here) logs no ep_rew_mean.
        var rewardRows = Column(dir, "metrics", "ep_rew_mean").Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(Column(dir, "metrics", "step").Select(long.Parse).Where((_, i) => double.IsFinite(rewardRows[i])),
            scalars.Where(s => s.Tag == "rollout/ep_rew_mean").Select(s => s.Step));
        Assert.Equal(rewardRows.Where(double.IsFinite).Select(v => (float)v), scalars.Where(s => s.Tag == "rollout/ep_rew_mean").Select(s => s.Value));
        Assert.Equal(Column(dir, "eval", "step").Select(long.Parse), scalars.Where(s => s.Tag == "eval/mean_reward").Select(s => s.Step));
        Assert.Equal(periodic.Select(v => (float)v), scalars.Where(s => s.Tag == "eval/mean_reward").Select(s => s.Value));
        Assert.Equal(Column(dir, "metrics", "approx_kl").Select(v => (float)double.Parse(v, CultureInfo.InvariantCulture)),
            scalars.Where(s => s.Tag == "train/approx_kl").Select(s => s.Value));
    }

    [Fact]
    public async Task EvalEverySteps_0_turns_periodic_evaluation_off_and_the_run_still_writes_its_summary()
    {
        var dir = NewRunDirectory();
        var config = Tiny(c =>
        {
            ConfigPaths.Set(c, "evalEverySteps", 0);
            ConfigPaths.Set(c, "milestoneSteps", new JsonArray());
        });
        ExperimentResult result;
        using (var run = CreateRun(dir))
            result = await Kind.Create(config).RunAsync(run, new Recorded(), CancellationToken.None);

        Assert.Equal(ExperimentOutcome.Finished, result.Outcome);
        Assert.Empty(Column(dir, "eval", "step"));
        // No periodic evaluation means no periodic best (its running value starts at -infinity, which JSON cannot hold);
        // summary.json and scores.json are still written, with the final evaluation.
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!.AsObject();
        Assert.Equal(512, summary["totalSteps"]!.GetValue<long>());
        Assert.Equal(3, summary["finalEvaluation"]!["episodes"]!.GetValue<int>());
        var finalMean = summary["finalEvaluation"]!["mean"]!.GetValue<double>();
        var scores = ReadScores(dir);
        Assert.Equal(finalMean, scores.Final);
        // The best is either absent or the final evaluation itself: there is nothing else it could be.
        Assert.True(scores.Best is null || scores.Best == finalMean, $"best {scores.Best} with no periodic evaluation");
        Assert.Equal(scores.Best, summary["bestEvaluationMean"]?.GetValue<double>());
    }

    [Fact]
    public async Task A_file_that_cannot_be_written_after_training_fails_the_run_naming_it_and_the_checkpoint_is_kept()
    {
        var dir = NewRunDirectory();
        // A directory where final_model.bin goes: its write fails after training, as a full disk would make it.
        var final = Path.Combine(dir, "artifacts", PpoExperiment.FinalModelFile);
        ExperimentResult result;
        using (var run = CreateRun(dir))
        {
            Directory.CreateDirectory(final);
            result = await Kind.Create(Tiny()).RunAsync(run, new Recorded(), CancellationToken.None);
        }

        Assert.Equal(ExperimentOutcome.Failed, result.Outcome);
        Assert.StartsWith("writing the run failed at step 512: ", result.Message);
        Assert.Contains(final, result.Message);
        var status = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, RunStore.StatusFile)))!;
        Assert.Equal("failed", status["status"]!.GetValue<string>());
        Assert.Equal(result.Message, status["message"]!.GetValue<string>());
        Assert.Equal(512, ReadScores(dir).Work);
        Assert.True(File.Exists(PpoExperiment.CheckpointPath(dir)));
    }

    [Fact]
    public async Task A_checkpoint_with_a_negative_step_count_is_refused_naming_it_and_no_metrics_row_is_dropped()
    {
        var dir = NewRunDirectory();
        using (var run = CreateRun(dir))
            Assert.Equal(ExperimentOutcome.Finished, (await Kind.Create(Tiny()).RunAsync(run, new Recorded(), CancellationToken.None)).Outcome);
        var rows = File.ReadAllLines(Path.Combine(dir, "metrics.csv"));

        // The run's own checkpoint with its header's step count made negative, as a crafted file would have it.
        var checkpoint = PpoExperiment.CheckpointPath(dir);
        byte[] rest;
        string magic;
        JsonObject header;
        using (var reader = new BinaryReader(File.OpenRead(checkpoint), System.Text.Encoding.UTF8))
        {
            magic = reader.ReadString();
            header = JsonNode.Parse(reader.ReadString())!.AsObject();
            rest = reader.ReadBytes((int)(reader.BaseStream.Length - reader.BaseStream.Position));
        }
        header["TotalSteps"] = -5;
        using (var writer = new BinaryWriter(File.Create(checkpoint), System.Text.Encoding.UTF8))
        {
            writer.Write(magic);
            writer.Write(header.ToJsonString());
            writer.Write(rest);
        }

        var e = Assert.Throws<ExperimentConfigException>(() => ((PpoExperiment)Kind.Create(Tiny(c => ConfigPaths.Set(c, "steps", 1024)))).ContinuingFrom(checkpoint));
        Assert.Equal($"{checkpoint} is not a usable PPO checkpoint: its header field 'TotalSteps' must be 0 or more, got -5.", e.Message);
        Assert.Equal(rows, File.ReadAllLines(Path.Combine(dir, "metrics.csv")));
    }

    [Fact]
    public async Task A_stopped_run_continues_on_the_same_directory_and_its_curve_joins_without_overlap()
    {
        var dir = NewRunDirectory();
        // Periodic evaluations every 129 steps land on the update ends 256, 384 and 512. The milestone at 258 is the first
        // vector step of the rollout the stop undoes, so its row goes and the resumed run evaluates it again.
        var config = Tiny(c =>
        {
            ConfigPaths.Set(c, "evalEverySteps", 129);
            ConfigPaths.Set(c, "milestoneSteps", new JsonArray(258));
        });
        using var stop = new CancellationTokenSource();
        ExperimentResult first;
        using (var run = CreateRun(dir))
            first = await Kind.Create(config).RunAsync(run, new Recorded { OnAdvanced = done => { if (done == 256) stop.Cancel(); } }, stop.Token);

        Assert.Equal(ExperimentOutcome.Stopped, first.Outcome);
        Assert.Equal(RunStatus.Killed, RunReader.Read(dir).Info.Status);
        Assert.Null(ReadScores(dir).Final);
        Assert.Equal(256, ReadScores(dir).Work);
        Assert.Equal(["256"], Column(dir, "eval", "step"));
        Assert.Equal(["258"], Column(dir, PpoExperiment.MilestoneTable, "step"));

        ExperimentResult second;
        var progress = new Recorded();
        using (var run = new RunStore(Path.GetDirectoryName(dir)!) { Mirror = null }.Reopen(dir))
            second = await Kind.Create(config).RunAsync(run, progress, CancellationToken.None);

        Assert.Equal(ExperimentOutcome.Finished, second.Outcome);
        Assert.Contains("started 256 512 steps", progress.Events);
        Assert.Contains("notice Continuing from the checkpoint at step 256.", progress.Events);
        Assert.DoesNotContain(progress.Events, e => e.StartsWith("notice First deterministic evaluation", StringComparison.Ordinal));
        Assert.Equal(["256", "384", "512"], Column(dir, "eval", "step"));
        Assert.Equal(["258", "512"], Column(dir, PpoExperiment.MilestoneTable, "step"));
        Assert.Equal(["128", "256", "384", "512"], Column(dir, "metrics", "step"));
        var info = RunReader.Read(dir).Info;
        Assert.Equal(RunStatus.Finished, info.Status);
        Assert.Equal("256", info.Tags["resumed_from_step"]);
        var scores = ReadScores(dir);
        Assert.Equal(512, scores.Work);
        Assert.NotNull(scores.Final);
        Assert.Equal(Math.Max(Column(dir, "eval", "mean_reward").Select(v => double.Parse(v, CultureInfo.InvariantCulture)).Max(), scores.Final!.Value), scores.Best);
    }

    [Fact]
    public void The_first_evaluation_line_says_why_the_clipped_gaussian_scores_below_training_only_when_it_does()
    {
        var low = new RLWorkbench.Ppo.EvaluationSummary(10, -612.34, 40.5, -700, -500, 0.1, 200);
        Assert.Equal("First deterministic evaluation at step 8,192: -612.3 +- 40.5 over 10 episodes (training ep_rew_mean 371.2)."
            + " Evaluation plays the Gaussian's mean action clipped to [0, 1]; early on the means are near 0, which assigns no task and asks no collaboration"
            + " (both need more than 0.5), so it scores far below training, whose sampled actions (std 1 at the start) pass 0.5 about a third of the time.",
            PpoExperiment.FirstEvaluationLine(8192, low, 371.24, "diag-gaussian"));
        Assert.Equal("First deterministic evaluation at step 8,192: -612.3 +- 40.5 over 10 episodes (training ep_rew_mean 371.2).",
            PpoExperiment.FirstEvaluationLine(8192, low, 371.24, "beta"));
        var high = low with { Mean = 400 };
        Assert.Equal("First deterministic evaluation at step 8,192: 400.0 +- 40.5 over 10 episodes (training ep_rew_mean 371.2).",
            PpoExperiment.FirstEvaluationLine(8192, high, 371.24, "diag-gaussian"));
    }

    [Fact]
    public void The_closing_line_says_which_model_is_the_best()
    {
        Assert.Equal("best periodic 1478.2 at step 753,664, kept as best_model.bin", PpoExperiment.BestPhrase(1478.24, 753_664, finalIsBest: false));
        Assert.Equal("above the best periodic 1478.2, so the final model is best_model.bin", PpoExperiment.BestPhrase(1478.24, 1_007_616, finalIsBest: true));
        Assert.Equal("no periodic evaluation, so the final model is best_model.bin", PpoExperiment.BestPhrase(double.NegativeInfinity, 57_344, finalIsBest: true));
    }

    [Fact]
    public void A_progress_report_carries_the_last_evaluation_and_the_losses()
    {
        var m = new RLWorkbench.Ppo.UpdateMetrics(16384, 9.5, 412.345, 200, -0.01234, 1234.5, -4.2, 0.006123, 0.05, 0.3, 0, 3e-4, 3210, 1.024, 1.5, 320, false);
        Assert.Equal("ep_rew_mean 412.3  eval none yet  policy_loss -0.0123  value_loss 1.23E+03  approx_kl 0.00612  rollout 1.02 s  update 1.50 s",
            PpoExperiment.Detail(m, null));
        var evaluation = new RLWorkbench.Ppo.EvaluationSummary(10, -512.04, 1, 0, 0, 0, 200);
        Assert.Equal("ep_rew_mean 412.3  eval -512.0 at 8,192  policy_loss -0.0123  value_loss 1.23E+03  approx_kl 0.00612  rollout 1.02 s  update 1.50 s",
            PpoExperiment.Detail(m, (8192, evaluation)));
    }

    [Fact]
    public void The_shipped_experiment_files_load_and_unknown_or_mistyped_settings_are_named()
    {
        Assert.Equal(["steps", "device", "environment", "ppo", "evalEverySteps", "evalEpisodes", "checkpointEverySteps", "threads",
            "finalEvalEpisodes", "milestoneSteps", "milestoneEvalEpisodes", "earlyStop"], Kind.Defaults().Select(p => p.Key));
        foreach (var file in new[] { "ppo-seed.json", "ppo-1m.json" })
        {
            var config = Kind.Load(Path.Combine(RepositoryPaths.Root, "experiments", file));
            var settings = PpoExperimentKind.Bind(config);
            Assert.Equal(100, settings.FinalEvalEpisodes);
            Assert.Empty(settings.MilestoneSteps);
        }
        Assert.Equal(1_000_000, PpoExperimentKind.Bind(Kind.Load(Path.Combine(RepositoryPaths.Root, "experiments", "ppo-1m.json"))).Steps);

        var typo = Path.Combine(Path.GetTempPath(), $"rlw-ppo-typo-{Guid.NewGuid():N}.json");
        File.WriteAllText(typo, """{ "ppo": { "learnRate": 0.001 } }""");
        Assert.Equal("unknown setting 'ppo.learnRate'; did you mean 'ppo.learningRate'?", Assert.Throws<ExperimentConfigException>(() => Kind.Load(typo)).Message);

        var config2 = Kind.Defaults();
        ConfigPaths.Set(config2, "ppo.learningRate", ConfigPaths.ParseValue("fast"));
        Assert.Equal("'ppo.learningRate' must be a number, got \"fast\".", Assert.Throws<ExperimentConfigException>(() => Kind.Create(config2)).Message);

        var config3 = Kind.Defaults();
        ConfigPaths.Set(config3, "ppo.hiddenSizes", ConfigPaths.ParseValue("[64, \"wide\"]"));
        Assert.Equal("'ppo.hiddenSizes' must be a list of whole numbers, got [64,\"wide\"].", Assert.Throws<ExperimentConfigException>(() => Kind.Create(config3)).Message);

        var config4 = Kind.Defaults();
        ConfigPaths.Set(config4, "milestoneSteps", ConfigPaths.ParseValue("[250000, 0]"));
        Assert.Equal("milestoneSteps must all be step counts from 1 to 10,000,000,000, got 0.", Assert.Throws<ExperimentConfigException>(() => Kind.Create(config4)).Message);
    }
}
