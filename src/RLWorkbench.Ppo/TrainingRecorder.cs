using RLWorkbench.Tracking;

namespace RLWorkbench.Ppo;

/// <summary>An episodes.csv column filled from a finished episode's final info (NaN when the environment does not report the key).</summary>
public sealed record EpisodeInfoColumn(string Column, string InfoKey);

/// <summary>
/// Records training into a run: one metrics.csv row per update, one episodes.csv row per finished training
/// episode, and one eval.csv row per evaluation it is handed (<see cref="RecordEvaluation"/>, the
/// <see cref="EvaluationCallback.Evaluated"/> of a run's periodic evaluation).
/// </summary>
public sealed class TrainingRecorder : ITrainingCallback
{
    public static readonly string[] MetricsColumns =
    [
        "step", "time_s", "ep_rew_mean", "ep_len_mean", "policy_loss", "value_loss", "entropy_loss", "approx_kl",
        "clip_fraction", "explained_variance", "log_std_mean", "learning_rate", "steps_per_second",
    ];

    public static readonly string[] EvaluationColumns = ["step", "mean_reward", "std_reward", "min_reward", "max_reward", "completion_rate"];

    private readonly MetricsTable metrics;
    private readonly MetricsTable episodes;
    private readonly MetricsTable evaluations;
    private readonly IReadOnlyList<EpisodeInfoColumn> infoColumns;

    /// <param name="episodeInfo">Extra episodes.csv columns after step, env, return and length.</param>
    public TrainingRecorder(Run run, IReadOnlyList<EpisodeInfoColumn> episodeInfo)
    {
        infoColumns = episodeInfo;
        metrics = run.Table("metrics", MetricsColumns);
        episodes = run.Table("episodes", EpisodeColumns(episodeInfo));
        evaluations = run.Table("eval", EvaluationColumns);
    }

    public static string[] EpisodeColumns(IReadOnlyList<EpisodeInfoColumn> episodeInfo) =>
        ["step", "env", "return", "length", .. episodeInfo.Select(c => c.Column)];

    public void OnEpisodeEnd(ITrainingContext training, FinishedEpisode e)
    {
        var row = new object?[4 + infoColumns.Count];
        row[0] = e.Step;
        row[1] = e.Env;
        row[2] = e.Return;
        row[3] = e.Length;
        for (var i = 0; i < infoColumns.Count; i++)
            row[4 + i] = e.FinalInfo.TryGetValue(infoColumns[i].InfoKey, out var v) ? v : double.NaN;
        episodes.AppendRow(row);
    }

    public TrainingDecision OnUpdateEnd(ITrainingContext training, UpdateMetrics m)
    {
        metrics.AppendRow(m.Step, m.TimeSeconds, m.EpisodeRewardMean, m.EpisodeLengthMean, m.PolicyLoss, m.ValueLoss, m.EntropyLoss,
            m.ApproxKl, m.ClipFraction, m.ExplainedVariance, m.LogStdMean, m.LearningRate, m.StepsPerSecond);
        return TrainingDecision.Continue;
    }

    public void RecordEvaluation(long step, EvaluationSummary s) =>
        evaluations.AppendRow(step, s.Mean, s.Std, s.Min, s.Max, s.CompletionRate);
}
