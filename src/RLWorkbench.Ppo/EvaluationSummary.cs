using RLWorkbench.Gym.Evaluation;

namespace RLWorkbench.Ppo;

/// <summary>
/// Mean, std (population, as numpy), min and max of the returns of an evaluation, the mean of the
/// environments' final "completion_rate" info (NaN for environments that do not report one), and the mean
/// episode length (SB3's eval/mean_ep_length).
/// </summary>
public sealed record EvaluationSummary(int Episodes, double Mean, double Std, double Min, double Max, double CompletionRate, double MeanLength)
{
    public static EvaluationSummary Of(IReadOnlyList<EvaluationEpisode> episodes)
    {
        if (episodes.Count == 0)
            throw new ArgumentException("An evaluation summary needs at least one episode.", nameof(episodes));
        var returns = Summary.Of(episodes.Select(e => e.Return).ToArray());
        var completion = episodes.Average(e => e.FinalInfo.TryGetValue("completion_rate", out var c) ? c : double.NaN);
        return new EvaluationSummary(returns.Count, returns.Mean, returns.Std, returns.Min, returns.Max, completion, episodes.Average(e => e.Length));
    }
}
