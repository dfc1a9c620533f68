using System.Globalization;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;

namespace RLWorkbench.Routing.Workflow;

/// <summary>
/// The allowed range of every routing setting that qlearn, route and compare share, checked before a run starts so
/// that an absurd value (a negative timeout, a 1e308-second wait, a null section) is one sentence naming the dotted
/// path and the range rather than an overflow deep inside a run. Each method returns the first problem, or null.
/// </summary>
public static class SettingLimits
{
    /// <summary>Longest wait or timeout any setting may ask for: one day, inside what TimeSpan and Polly accept.</summary>
    public const double MaxSeconds = 86_400;

    public static string? Resilience(ResilienceOptions? o, string path) => o is null ? Missing(path) : FirstOf(
        Whole($"{path}.maxRetries", o.MaxRetries, 0, 100),
        Number($"{path}.baseDelaySeconds", o.BaseDelaySeconds, 0, MaxSeconds),
        Number($"{path}.maxDelaySeconds", o.MaxDelaySeconds, 0, MaxSeconds),
        Number($"{path}.maxRetryAfterSeconds", o.MaxRetryAfterSeconds, 0, MaxSeconds),
        // Polly's own limits: a timeout of at least 10 ms, a sampling window and break of at least half a second.
        Number($"{path}.attemptTimeoutSeconds", o.AttemptTimeoutSeconds, 0.01, MaxSeconds),
        Fraction($"{path}.breakerFailureRatio", o.BreakerFailureRatio),
        Whole($"{path}.breakerMinimumThroughput", o.BreakerMinimumThroughput, 2, 1_000_000),
        Number($"{path}.breakerSamplingSeconds", o.BreakerSamplingSeconds, 0.5, MaxSeconds),
        Number($"{path}.breakSeconds", o.BreakSeconds, 0.5, MaxSeconds),
        Whole($"{path}.maxConcurrentRequests", o.MaxConcurrentRequests, 1, 1000),
        Whole($"{path}.requestsPerMinute", o.RequestsPerMinute, 1, 1_000_000));

    public static string? Load(LoadTrackerOptions? o, string path) => o is null ? Missing(path) : FirstOf(
        Whole($"{path}.window", o.Window, 1, 10_000),
        Whole($"{path}.minimumEntries", o.MinimumEntries, 0, o.Window),
        Number($"{path}.hotFactor", o.HotFactor, 1, 100),
        Number($"{path}.penaltyScale", o.PenaltyScale, 0, 100),
        Number($"{path}.penaltyCap", o.PenaltyCap, 0, 1));

    public static string? Reward(RewardOptions? o, string path) => o is null ? Missing(path) : FirstOf(
        Positive($"{path}.costScaleUsd", o.CostScaleUsd, 1_000_000),
        Positive($"{path}.latencyScaleSeconds", o.LatencyScaleSeconds, MaxSeconds),
        Number($"{path}.costWeight", o.CostWeight, 0, 1),
        Number($"{path}.latencyWeight", o.LatencyWeight, 0, 1));

    public static string? QLearning(QLearningOptions? o, string path) => o is null ? null : FirstOf(
        Positive($"{path}.learningRate", o.LearningRate, 1),
        Fraction($"{path}.gamma", o.Gamma, allowZero: true),
        Fraction($"{path}.epsilonStart", o.EpsilonStart, allowZero: true),
        Positive($"{path}.epsilonDecay", o.EpsilonDecay, 1),
        Fraction($"{path}.epsilonFloor", o.EpsilonFloor, allowZero: true));

    public static string? Providers(Dictionary<string, ProviderSettings>? providers, string path)
    {
        if (providers is null)
            return Missing(path);
        foreach (var (name, settings) in providers)
        {
            var problem = settings is null ? Missing($"{path}.{name}") : FirstOf(
                Whole($"{path}.{name}.maxOutputTokens", settings.MaxOutputTokens, 1, 1_000_000),
                Number($"{path}.{name}.temperature", settings.Temperature, 0, 2),
                HttpUrl($"{path}.{name}.baseUrl", settings.BaseUrl));
            if (problem is not null)
                return problem;
        }
        return null;
    }

    /// <summary>
    /// An endpoint the SDKs are pointed at: null (the provider's own) or an absolute http(s) URL. Checked here because the
    /// clients are built after the run directory exists, where a malformed URL was an internal message and a failed run.
    /// </summary>
    public static string? HttpUrl(string path, string? url) =>
        url is null || (Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            ? null
            : $"'{path}' must be an http(s) URL such as http://localhost:11434/v1, got \"{url}\".";

    /// <summary>A hard cap in USD: null (none) or a finite amount up to a million.</summary>
    public static string? Budget(double? usd, string path) => usd is { } value ? Number(path, value, 0, 1_000_000) : null;

    /// <summary>
    /// A file the run will write (a cassette, a Q-table): refused now when it names a directory or sits under a file,
    /// since otherwise the first write fails after the run has started and calls have been paid for.
    /// </summary>
    public static string? OutputFile(string? file, string name, string example)
    {
        if (file is null)
            return null;
        if (file.Length == 0 || file.EndsWith(Path.DirectorySeparatorChar) || file.EndsWith(Path.AltDirectorySeparatorChar) || Directory.Exists(file))
            return $"{name} '{file}' is a directory; give a file name such as {Path.Combine(file.TrimEnd('/', Path.DirectorySeparatorChar) is { Length: > 0 } d ? d : ".", example)}.";
        for (var parent = Path.GetDirectoryName(Path.GetFullPath(file)); !string.IsNullOrEmpty(parent); parent = Path.GetDirectoryName(parent))
        {
            if (File.Exists(parent))
                return $"{name} '{file}' cannot be written: '{parent}' is a file, not a directory.";
        }
        return null;
    }

    /// <summary>
    /// The first field of a qlearn checkpoint (artifacts/checkpoint.json) a crafted or damaged file gets wrong, as one
    /// sentence naming the file and the field; null when it can be resumed. A negative iteration count, say, would make
    /// a resume keep no rows of iterations.csv.
    /// </summary>
    public static string? QlearnCheckpoint(string file, int iterationsDone, IReadOnlyList<ulong>? randomState, CoordinatorSnapshot? coordinator)
    {
        var problem = iterationsDone < 0 ? $"'iterationsDone' must be 0 or more, got {iterationsDone}."
            : randomState is null || randomState.Count != 4 || randomState.All(word => word == 0) ? "'randomState' must be four numbers, not all zero."
            : coordinator is null ? "'coordinator' is missing."
            : coordinator.QTable is null && (coordinator.Algorithm ?? RoutingAlgorithms.QLearning) == RoutingAlgorithms.QLearning ? "'coordinator.qTable' is missing."
            : coordinator.Composed is null && coordinator.Algorithm == RoutingAlgorithms.Composed ? "'coordinator.composed' is missing."
            : coordinator.Load is null ? "'coordinator.load' is missing."
            : !(coordinator.Epsilon >= 0 && coordinator.Epsilon <= 1) ? $"'coordinator.epsilon' must be from 0 to 1, got {Show(coordinator.Epsilon)}."
            : null;
        return problem is null ? null : $"{file} is not a usable qlearn checkpoint: {problem}";
    }

    public static string? Number(string path, double value, double min, double max) =>
        value >= min && value <= max ? null : $"'{path}' must be a number from {Show(min)} to {Show(max)}, got {Show(value)}.";

    public static string? Whole(string path, long value, long min, long max) =>
        value >= min && value <= max ? null : $"'{path}' must be a whole number from {min:N0} to {max:N0}, got {value}.";

    private static string? Positive(string path, double value, double max) =>
        value > 0 && value <= max ? null : $"'{path}' must be above 0 and at most {Show(max)}, got {Show(value)}.";

    private static string? Fraction(string path, double value, bool allowZero = false) => allowZero
        ? Number(path, value, 0, 1)
        : Positive(path, value, 1);

    private static string Missing(string path) => $"'{path}' cannot be null; give its settings, or leave it out for the defaults.";

    private static string? FirstOf(params string?[] problems) => problems.FirstOrDefault(p => p is not null);

    private static string Show(double value) => value.ToString(Math.Abs(value) is >= 1e-3 and < 1e15 or 0 ? "#,0.######" : "G6", CultureInfo.InvariantCulture);
}
