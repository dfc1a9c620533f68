using System.Globalization;
using RLWorkbench.Gym;
using RLWorkbench.Ppo;
using RLWorkbench.Tracking;

namespace RLWorkbench.Cli.Commands;

/// <summary>
/// The `ppo` command's callbacks: writes metrics.csv, episodes.csv and eval.csv through the run, runs
/// the periodic deterministic evaluation (keeping the best model), and writes the periodic checkpoint.
/// </summary>
public sealed class PpoRunRecorder : ITrainingCallback
{
    public static readonly string[] MetricsColumns =
    [
        "step", "time_s", "ep_rew_mean", "ep_len_mean", "policy_loss", "value_loss", "entropy_loss", "approx_kl",
        "clip_fraction", "explained_variance", "log_std_mean", "learning_rate", "steps_per_second",
    ];

    public static readonly string[] EvalColumns = ["step", "mean_reward", "std_reward", "min_reward", "max_reward", "completion_rate"];

    public static readonly string[] EpisodeColumns =
        ["step", "env", "return", "length", "tasks_completed", "completion_rate", "mean_agent_load", "mean_collaboration"];

    private readonly Run run;
    private readonly PpoRunConfig config;
    private readonly IReadOnlyList<IEnv> evalEnvs;
    private readonly MetricsTable metrics;
    private readonly MetricsTable evals;
    private readonly MetricsTable episodes;
    private long nextEval;
    private long nextCheckpoint;

    public PpoRunRecorder(Run run, PpoRunConfig config, IReadOnlyList<IEnv> evalEnvs, long startStep, double bestSoFar)
    {
        this.run = run;
        this.config = config;
        this.evalEnvs = evalEnvs;
        metrics = run.Table("metrics", MetricsColumns);
        evals = run.Table("eval", EvalColumns);
        episodes = run.Table("episodes", EpisodeColumns);
        BestMeanReward = bestSoFar;
        nextEval = NextMultiple(startStep, config.EvalEverySteps);
        nextCheckpoint = NextMultiple(startStep, config.CheckpointEverySteps);
    }

    public static string CheckpointPath(Run run) => run.ArtifactPath("checkpoint.bin");

    public static string BestModelPath(Run run) => run.ArtifactPath("best_model.bin");

    public double BestMeanReward { get; private set; }

    public EvaluationSummary? LastEvaluation { get; private set; }

    private static long NextMultiple(long step, long every) => every <= 0 ? long.MaxValue : (step / every + 1) * every;

    public void OnStep(PpoTrainer trainer)
    {
        if (trainer.TotalSteps < nextEval)
            return;
        nextEval = NextMultiple(trainer.TotalSteps, config.EvalEverySteps);
        Evaluate(trainer);
    }

    public void OnEpisodeEnd(PpoTrainer trainer, FinishedEpisode e) =>
        episodes.AppendRow(e.Step, e.Env, e.Return, e.Length, Get(e.FinalInfo, "episode_tasks_completed"), Get(e.FinalInfo, "completion_rate"),
            Get(e.FinalInfo, "mean_agent_load"), Get(e.FinalInfo, "mean_collaboration"));

    public void OnUpdateEnd(PpoTrainer trainer, UpdateMetrics m)
    {
        metrics.AppendRow(m.Step, m.TimeSeconds, m.EpisodeRewardMean, m.EpisodeLengthMean, m.PolicyLoss, m.ValueLoss, m.EntropyLoss,
            m.ApproxKl, m.ClipFraction, m.ExplainedVariance, m.LogStdMean, m.LearningRate, m.StepsPerSecond);
        if (trainer.TotalSteps >= nextCheckpoint)
        {
            nextCheckpoint = NextMultiple(trainer.TotalSteps, config.CheckpointEverySteps);
            trainer.ToCheckpoint().Save(CheckpointPath(run));
        }
    }

    private void Evaluate(PpoTrainer trainer)
    {
        var results = PolicyEvaluation.Run(trainer.Policy, evalEnvs, config.EvalEpisodes, seed: EvaluationSeed(config));
        var summary = EvaluationSummary.Of(results);
        LastEvaluation = summary;
        evals.AppendRow(trainer.TotalSteps, summary.Mean, summary.Std, summary.Min, summary.Max, summary.CompletionRate);
        if (summary.Mean > BestMeanReward || double.IsNaN(BestMeanReward))
        {
            BestMeanReward = summary.Mean;
            trainer.ToCheckpoint().Save(BestModelPath(run));
        }
    }

    /// <summary>Evaluation episodes use seeds far from the training environments' so they are not the same episodes.</summary>
    public static int EvaluationSeed(PpoRunConfig config) => unchecked(config.Ppo.Seed + 1_000_000);

    private static double Get(IReadOnlyDictionary<string, double> info, string key) => info.TryGetValue(key, out var v) ? v : double.NaN;

    /// <summary>The best mean evaluation reward already in a run's eval.csv (for a resumed run), or -infinity.</summary>
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
}

/// <summary>Mean, std (population, as numpy), min and max of the returns, and the mean completion rate.</summary>
public sealed record EvaluationSummary(int Episodes, double Mean, double Std, double Min, double Max, double CompletionRate)
{
    public static EvaluationSummary Of(IReadOnlyList<EvaluationEpisode> episodes)
    {
        var returns = episodes.Select(e => e.Return).ToArray();
        var mean = returns.Average();
        var std = Math.Sqrt(returns.Sum(r => (r - mean) * (r - mean)) / returns.Length);
        var completion = episodes.Average(e => e.FinalInfo.TryGetValue("completion_rate", out var c) ? c : double.NaN);
        return new EvaluationSummary(returns.Length, mean, std, returns.Min(), returns.Max(), completion);
    }
}
