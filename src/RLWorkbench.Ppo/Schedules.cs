namespace RLWorkbench.Ppo;

/// <summary>
/// How a coefficient moves from its start value to a final value over training, by progress
/// p = steps so far / steps asked for, computed before each update (SB3 passes 1 - p to its schedule
/// functions at the same moment). Progress past 1 (the last rollout overshoots) counts as 1.
/// </summary>
public static class Schedules
{
    /// <summary>Always the start value (the seed).</summary>
    public const string Constant = "constant";

    /// <summary>Straight from start to final (SB3's linear_schedule and CleanRL's anneal_lr, to 0 by default).</summary>
    public const string Linear = "linear";

    /// <summary>Half a cosine from start to final (Loshchilov and Hutter's SGDR without restarts).</summary>
    public const string Cosine = "cosine";

    /// <summary>Geometric from start to final: start (final / start)^p; both must be positive.</summary>
    public const string Exponential = "exponential";

    public static readonly string[] Choices = [Constant, Linear, Cosine, Exponential];

    public static double Value(string schedule, double start, double final, double progress)
    {
        var p = Math.Clamp(progress, 0, 1);
        return schedule switch
        {
            Constant => start,
            // Written as final + (start - final)(1 - p) so final 0 gives start (1 - p), the decay's formula before schedules existed.
            Linear => final + (start - final) * Math.Max(0, 1.0 - progress),
            Cosine => final + (start - final) * 0.5 * (1 + Math.Cos(Math.PI * p)),
            Exponential => start * Math.Pow(final / start, p),
            _ => throw new ArgumentException($"unknown schedule '{schedule}'; allowed: {string.Join(", ", Choices)}.", nameof(schedule)),
        };
    }

    /// <summary>One sentence naming the options' JSON names when the pair is unusable, else null.</summary>
    public static string? Problem(string scheduleName, string schedule, string finalName, double start, double final)
    {
        if (!Choices.Contains(schedule))
            return $"{scheduleName} must be one of {string.Join(", ", Choices)}, got '{schedule}'.";
        if (!double.IsFinite(final) || final < 0)
            return $"{finalName} must be a finite number >= 0, got {final}.";
        if (schedule == Exponential && !(start > 0 && final > 0))
            return $"an exponential {scheduleName} needs a positive start and a positive {finalName}, got {start} and {final}.";
        return null;
    }
}
