using System.Globalization;
using System.Text.Json.Nodes;
using RLWorkbench.Gym;
using RLWorkbench.Ppo;
using RLWorkbench.Ppo.TensorBoard;
using RLWorkbench.Simulation;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Ppo;

/// <summary>
/// One PPO run on the Phase 1 environment, from a resolved <see cref="PpoRunConfig"/> to a finished run
/// directory (docs/ppo.md, docs/run-format.md): periodic evaluation with the best model kept, milestone
/// evaluations, checkpoints, a final evaluation, summary.json and scores.json. A run directory that already
/// holds artifacts/checkpoint.bin is continued from it, and its tables are cut at the checkpoint's step so
/// the curve joins rather than overlaps.
/// </summary>
public sealed class PpoExperiment : IExperiment
{
    public const string CheckpointFile = "checkpoint.bin";
    public const string BestModelFile = "best_model.bin";
    public const string FinalModelFile = "final_model.bin";
    public const string MilestoneTable = "eval_milestones";

    public static readonly string[] MilestoneColumns = ["step", "episodes", "mean_reward", "std_reward", "min_reward", "max_reward", "completion_rate"];

    /// <summary>The tables cut at the checkpoint's step when a run is continued.</summary>
    public static readonly string[] Tables = ["metrics", "eval", "episodes", MilestoneTable];

    internal PpoExperiment(PpoRunConfig settings, string? continueFrom = null, long? continueFromStep = null)
    {
        Settings = settings;
        ContinueFrom = continueFrom;
        ContinueFromStep = continueFromStep;
        Configuration = PpoExperimentKind.ToJson(settings);
    }

    public string Kind => PpoExperimentKind.KindName;

    public JsonObject Configuration { get; }

    public PpoRunConfig Settings { get; }

    /// <summary>
    /// A model file other than the run's own checkpoint to continue from (ppo --resume best_model.bin);
    /// null continues from the run directory's artifacts/checkpoint.bin when there is one.
    /// </summary>
    public string? ContinueFrom { get; }

    /// <summary>The step of <see cref="ContinueFrom"/>'s checkpoint.</summary>
    public long? ContinueFromStep { get; }

    /// <summary>The checkpoint a run directory is continued from.</summary>
    public static string CheckpointPath(string runDirectory) => Path.Combine(runDirectory, "artifacts", CheckpointFile);

    /// <summary>
    /// This experiment, continuing from <paramref name="checkpointPath"/>. The file is checked now, so a
    /// checkpoint of another environment or network, or one already at the configured steps, is an
    /// <see cref="ExperimentConfigException"/> before anything is written.
    /// </summary>
    public PpoExperiment ContinuingFrom(string checkpointPath)
    {
        if (!File.Exists(checkpointPath))
            throw new ExperimentConfigException(InputFile.Missing("checkpoint", checkpointPath, "give a run's artifacts/checkpoint.bin"));
        PpoCheckpoint checkpoint;
        try
        {
            checkpoint = PpoCheckpoint.Load(checkpointPath);
        }
        catch (InvalidDataException e)
        {
            // Its sentence already names the file.
            throw new ExperimentConfigException(e.Message);
        }
        catch (IOException e)
        {
            throw new ExperimentConfigException($"cannot continue from {checkpointPath}: {e.Message}");
        }
        using (var env = new TaskEnvironment(Settings.Environment.Options(), seed: 0))
        {
            var shape = PolicyShape.For(env.ObservationSpace, env.ActionSpace);
            if (!checkpoint.Shape.SameAs(shape))
                throw new ExperimentConfigException($"cannot continue from {checkpointPath}: it was trained on {checkpoint.Shape}, but {Settings.Environment.Variant}/{Settings.Environment.Layout} is {shape}.");
        }
        if (!checkpoint.HiddenSizes.SequenceEqual(Settings.Ppo.HiddenSizes))
            throw new ExperimentConfigException($"cannot continue from {checkpointPath}: its hidden sizes [{string.Join(", ", checkpoint.HiddenSizes)}] differ from ppo.hiddenSizes [{string.Join(", ", Settings.Ppo.HiddenSizes)}].");
        if (checkpoint.TotalSteps >= Settings.Steps)
            throw new ExperimentConfigException($"the checkpoint is already at step {checkpoint.TotalSteps:N0}; give steps (--steps) above that to continue.");
        return new PpoExperiment(Settings, Path.GetFullPath(checkpointPath), checkpoint.TotalSteps);
    }

    public Task<ExperimentResult> RunAsync(Run run, IExperimentProgress progress, CancellationToken cancel) =>
        // Training is synchronous CPU work on this thread, as libtorch's thread settings expect.
        Task.FromResult(Execute(run, progress, cancel));

    private ExperimentResult Execute(Run run, IExperimentProgress progress, CancellationToken cancel)
    {
        var config = Settings;
        var envOptions = config.Environment.Options();
        var device = ComputeDevice.Resolve(config.Device);
        ComputeDevice.ConfigureThreads(config.Threads);
        var ownCheckpoint = run.ArtifactPath(CheckpointFile);
        var source = ContinueFrom ?? (File.Exists(ownCheckpoint) ? ownCheckpoint : null);

        using var trainer = new PpoTrainer(config.Ppo, i => new TaskEnvironment(envOptions, seed: config.Ppo.Seed + i), device);
        // Unset threads: the update measures one thread against all cores and keeps the faster (docs/ppo.md,
        // "Threads"); a sweep worker runs with OMP_NUM_THREADS=1 and so always one.
        if (config.Threads is null && device.type == TorchSharp.DeviceType.CPU)
            trainer.ThreadTuner = ComputeDevice.AutoThreads(config.Ppo);
        var bestSoFar = double.NegativeInfinity;
        if (source is not null)
        {
            try
            {
                trainer.Restore(PpoCheckpoint.Load(source));
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                var message = $"cannot continue from {source}: {e.Message}";
                run.Finish(RunStatus.Failed, message);
                var nothing = Scores(0, 0, null, double.NegativeInfinity);
                run.WriteJson(RunScores.FileName, nothing);
                return new ExperimentResult(ExperimentOutcome.Failed, nothing, message);
            }
            RunStore.DropRowsAfter(run.Directory, trainer.TotalSteps, Tables);
            bestSoFar = BestInEvalTable(run.Directory);
            run.MarkRunning();
            run.SetTag("resumed_from_step", trainer.TotalSteps.ToString(CultureInfo.InvariantCulture));
            progress.Notice(string.Create(CultureInfo.InvariantCulture, $"Continuing from the checkpoint at step {trainer.TotalSteps:N0}."));
        }
        var startStep = trainer.TotalSteps;
        run.WriteConfig(Configuration);
        run.SetTag("device", device.type.ToString().ToLowerInvariant());
        progress.Notice(string.Create(CultureInfo.InvariantCulture,
            $"Device {device.type}, libtorch threads {(trainer.ThreadTuner is null ? TorchSharp.torch.get_num_threads().ToString(CultureInfo.InvariantCulture) : $"1 or {trainer.ThreadTuner.MaxThreads} for the update, whichever measures faster")}, network {trainer.Shape}, {trainer.Policy.Parameters.Count:N0} parameters."));

        // One pool for every evaluation, played in waves: episode k starts from seed + k whatever the pool's size, and
        // 32 environments (pool variants run worker threads each) keep a 100-episode evaluation to a few waves.
        var poolSize = Math.Min(32, Math.Max(config.EvalEpisodes, Math.Max(config.FinalEvalEpisodes, config.MilestoneEvalEpisodes)));
        var evalEnvs = Enumerable.Range(0, poolSize).Select(i => (IEnv)new TaskEnvironment(envOptions, seed: i)).ToList();
        try
        {
            using var tensorBoard = TensorBoardLog.ForRun(run.Directory);
            var recorder = new TrainingRecorder(run, PpoRunConfig.EpisodeInfo, tensorBoard);
            var milestoneRows = run.Table(MilestoneTable, MilestoneColumns);
            void Milestone(long step, EvaluationSummary s) => milestoneRows.AppendRow(step, s.Episodes, s.Mean, s.Std, s.Min, s.Max, s.CompletionRate);
            var reporting = new ProgressReporting(progress);
            void Evaluated(long step, EvaluationSummary s)
            {
                recorder.RecordEvaluation(step, s);
                // A continued run's first evaluation is not the run's first, and the reason below is about the start.
                if (reporting.LastEvaluation is null && startStep == 0)
                    progress.Notice(FirstEvaluationLine(step, s, trainer.EpisodeRewardMean, config.Ppo.Distribution));
                reporting.LastEvaluation = (step, s);
            }
            var evaluation = new EvaluationCallback(evalEnvs, config.EvalEpisodes, config.EvaluationSeed(), StepSchedule.Every(config.EvalEverySteps), startStep, bestSoFar)
            {
                BestModelPath = run.ArtifactPath(BestModelFile),
                Evaluated = Evaluated,
                // The policy changes only at updates: evaluating mid-rollout would score the previous update's policy again (docs/ppo.md).
                AfterUpdates = true,
                Stops = new EvaluationStops
                {
                    RewardThreshold = config.EarlyStop.RewardThreshold,
                    MaxNoImprovementEvals = config.EarlyStop.MaxNoImprovementEvals,
                    MinEvals = config.EarlyStop.MinEvals,
                },
            };
            var milestones = new EvaluationCallback(evalEnvs, config.MilestoneEvalEpisodes, config.EvaluationSeed(), StepSchedule.At(config.MilestoneSteps), startStep)
            {
                Evaluated = Milestone,
            };
            var checkpoints = new CheckpointCallback(ownCheckpoint, config.CheckpointEverySteps, startStep);
            progress.Started(string.Create(CultureInfo.InvariantCulture,
                $"ppo: {config.Environment.Variant}/{config.Environment.Layout}, seed {config.Ppo.Seed}, {config.Ppo.NumEnvs} envs x {config.Ppo.StepsPerEnv} steps per rollout"),
                startStep, config.Steps, "steps");

            TrainingOutcome outcome;
            try
            {
                outcome = trainer.Learn(config.Steps, new CallbackList(recorder, evaluation, milestones, checkpoints, reporting), cancel);
            }
            catch (Exception e)
            {
                run.Finish(RunStatus.Failed, $"training threw: {e.Message}");
                run.WriteJson(RunScores.FileName, Scores(trainer.TotalSteps, trainer.ElapsedSeconds, null, evaluation.BestMeanReward));
                throw;
            }

            try
            {
                trainer.SaveCheckpoint(ownCheckpoint);
                if (outcome == TrainingOutcome.Cancelled)
                {
                    var stopped = Scores(trainer.TotalSteps, trainer.ElapsedSeconds, null, evaluation.BestMeanReward);
                    run.WriteJson(RunScores.FileName, stopped);
                    var message = string.Create(CultureInfo.InvariantCulture, $"stopped at step {trainer.TotalSteps:N0}; the checkpoint there continues it");
                    run.Finish(RunStatus.Killed, message);
                    return new ExperimentResult(ExperimentOutcome.Stopped, stopped, message);
                }

                trainer.SaveCheckpoint(run.ArtifactPath(FinalModelFile));
                var final = EvaluationSummary.Of(trainer.EvaluateDeterministic(evalEnvs, config.FinalEvalEpisodes, config.EvaluationSeed()));
                Milestone(trainer.TotalSteps, final);
                // The best is never worse than the final: a final evaluation above every periodic one becomes best_model.bin.
                var periodicBest = evaluation.BestMeanReward;
                var finalIsBest = evaluation.Consider(trainer, final);
                var stepsPerSecond = trainer.TotalSteps / Math.Max(trainer.ElapsedSeconds, 1e-9);
                var best = evaluation.BestMeanReward;
                run.WriteJson("summary.json", new
                {
                    trainer.TotalSteps,
                    trainer.ElapsedSeconds,
                    StepsPerSecond = stepsPerSecond,
                    EpisodeRewardMean = Finite(trainer.EpisodeRewardMean),
                    FinalEvaluation = final,
                    BestEvaluationMean = Finite(best),
                    BestEvaluationStep = evaluation.BestStep,
                    BestEvaluationIsFinal = finalIsBest,
                    StoppedEarly = evaluation.StopReason,
                });
                var scores = Scores(trainer.TotalSteps, trainer.ElapsedSeconds, final.Mean, best);
                run.WriteJson(RunScores.FileName, scores);
                run.Finish(RunStatus.Finished, evaluation.StopReason is { } reason ? $"stopped early: {reason}" : null);
                var done = string.Create(CultureInfo.InvariantCulture,
                    $"Done: {trainer.TotalSteps:N0} steps in {trainer.ElapsedSeconds:F1} s ({stepsPerSecond:N0} steps/s); ep_rew_mean {trainer.EpisodeRewardMean:F1}; "
                    + $"final deterministic evaluation {final.Mean:F1} +- {final.Std:F1} over {final.Episodes} episodes "
                    + $"({BestPhrase(periodicBest, evaluation.BestStep, finalIsBest)}), completion rate {final.CompletionRate:P1}.");
                if (evaluation.StopReason is { } why)
                    done += $" Stopped early: {why}.";
                return new ExperimentResult(ExperimentOutcome.Finished, scores, done);
            }
            catch (IOException e)
            {
                // A full disk after training: the status names the step and the file, not "the process ended".
                var message = string.Create(CultureInfo.InvariantCulture, $"writing the run failed at step {trainer.TotalSteps:N0}: {e.Message}");
                var failed = Scores(trainer.TotalSteps, trainer.ElapsedSeconds, null, evaluation.BestMeanReward);
                run.Finish(RunStatus.Failed, message);
                run.WriteJson(RunScores.FileName, failed);
                return new ExperimentResult(ExperimentOutcome.Failed, failed, message);
            }
        }
        finally
        {
            foreach (var env in evalEnvs)
                env.Dispose();
        }
    }

    /// <summary>Which model best_model.bin is, for the closing line.</summary>
    internal static string BestPhrase(double periodicBest, long? bestStep, bool finalIsBest)
    {
        var periodic = string.Create(CultureInfo.InvariantCulture, $"best periodic {periodicBest:F1}");
        if (finalIsBest)
            return double.IsFinite(periodicBest) ? $"above the {periodic}, so the final model is best_model.bin" : "no periodic evaluation, so the final model is best_model.bin";
        return string.Create(CultureInfo.InvariantCulture, $"{periodic}{(bestStep is { } s ? $" at step {s:N0}" : "")}, kept as best_model.bin");
    }

    /// <summary>
    /// The first evaluation, printed once with ep_rew_mean beside it. With the seed's clipped Gaussian a newcomer sees
    /// evaluation hundreds below training and suspects a bug: the line says why (docs/ppo.md, "Deterministic evaluation").
    /// </summary>
    internal static string FirstEvaluationLine(long step, EvaluationSummary s, double episodeRewardMean, string distribution)
    {
        var line = string.Create(CultureInfo.InvariantCulture,
            $"First deterministic evaluation at step {step:N0}: {s.Mean:F1} +- {s.Std:F1} over {s.Episodes} episodes (training ep_rew_mean {episodeRewardMean:F1}).");
        if (distribution == ActionDistributions.DiagonalGaussian && !(s.Mean >= episodeRewardMean))
            line += " Evaluation plays the Gaussian's mean action clipped to [0, 1]; early on the means are near 0, which assigns no task"
                + " and asks no collaboration (both need more than 0.5), so it scores far below training, whose sampled actions (std 1 at the start) pass 0.5 about a third of the time.";
        return line;
    }

    private RunScores Scores(long steps, double seconds, double? final, double best) => new(
        string.Create(CultureInfo.InvariantCulture, $"deterministic evaluation mean return (final: {Settings.FinalEvalEpisodes} episodes; best: the best of the periodic ones, {Settings.EvalEpisodes} episodes each, and the final)"),
        final,
        Finite(best),
        steps,
        "steps",
        seconds > 0 ? steps / seconds : null,
        new CurveSource("eval", "step", "mean_reward"));

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    /// <summary>The best mean evaluation reward already in a run's eval.csv (for a continued run), or -infinity.</summary>
    public static double BestInEvalTable(string runDirectory)
    {
        var path = Path.Combine(runDirectory, "eval.csv");
        if (!File.Exists(path))
            return double.NegativeInfinity;
        var best = double.NegativeInfinity;
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var fields = line.Split(',');
            if (fields.Length > 1 && double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                best = Math.Max(best, v);
        }
        return best;
    }

    /// <summary>One progress report per update: where training is, how fast, and the rollout's numbers.</summary>
    private sealed class ProgressReporting(IExperimentProgress progress) : ITrainingCallback
    {
        /// <summary>The latest periodic evaluation, shown with every report after it.</summary>
        public (long Step, EvaluationSummary Summary)? LastEvaluation { get; set; }

        public TrainingDecision OnUpdateEnd(ITrainingContext training, UpdateMetrics m)
        {
            progress.Advanced(training.TotalSteps, m.StepsPerSecond, Detail(m, LastEvaluation));
            return TrainingDecision.Continue;
        }
    }

    /// <summary>
    /// A report's fields, most telling first and two spaces apart (a narrow display keeps whole fields from the
    /// left): training return, the last evaluation and its step, the losses SB3 prints, then where the time went.
    /// </summary>
    internal static string Detail(UpdateMetrics m, (long Step, EvaluationSummary Summary)? evaluation) => string.Create(CultureInfo.InvariantCulture,
        $"ep_rew_mean {m.EpisodeRewardMean:F1}  {(evaluation is { } e ? $"eval {e.Summary.Mean:F1} at {e.Step:N0}" : "eval none yet")}  "
        + $"policy_loss {m.PolicyLoss:G3}  value_loss {m.ValueLoss:G3}  approx_kl {m.ApproxKl:G3}  rollout {m.RolloutSeconds:F2} s  update {m.UpdateSeconds:F2} s");
}
