namespace RLWorkbench.Ppo;

/// <summary>
/// Mean, std (population, as numpy), min and max of the returns of an evaluation, and the mean of the
/// environments' final "completion_rate" info (NaN for environments that do not report one).
/// </summary>
public sealed record EvaluationSummary(int Episodes, double Mean, double Std, double Min, double Max, double CompletionRate)
{
    public static EvaluationSummary Of(IReadOnlyList<EvaluationEpisode> episodes)
    {
        if (episodes.Count == 0)
            throw new ArgumentException("An evaluation summary needs at least one episode.", nameof(episodes));
        var returns = episodes.Select(e => e.Return).ToArray();
        var mean = returns.Average();
        var std = Math.Sqrt(returns.Sum(r => (r - mean) * (r - mean)) / returns.Length);
        var completion = episodes.Average(e => e.FinalInfo.TryGetValue("completion_rate", out var c) ? c : double.NaN);
        return new EvaluationSummary(returns.Length, mean, std, returns.Min(), returns.Max(), completion);
    }
}
