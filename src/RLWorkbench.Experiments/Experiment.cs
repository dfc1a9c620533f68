using System.Text.Json.Nodes;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments;

/// <summary>
/// One kind of run the workbench makes (ppo, qlearn, compare). It knows its configuration as JSON, with
/// the names experiments/*.json use, so overrides (--set ppo.learningRate=1e-4) and sweeps address every
/// setting of every kind the same way, by dotted path.
/// </summary>
public interface IExperimentKind
{
    /// <summary>"ppo", "qlearn" or "compare": the command name and the run directory's kind.</summary>
    string Name { get; }

    /// <summary>Dotted path of the seed in this kind's configuration (for example "ppo.seed").</summary>
    string SeedPath { get; }

    /// <summary>The whole configuration with every default filled in.</summary>
    JsonObject Defaults();

    /// <summary>An experiment file laid over the defaults; a missing or malformed file is an <see cref="ExperimentConfigException"/> naming it.</summary>
    JsonObject Load(string path);

    /// <summary>
    /// Binds and validates a whole configuration. A value of the wrong type or out of range is an
    /// <see cref="ExperimentConfigException"/> naming its dotted path and what is allowed; nothing is written.
    /// </summary>
    IExperiment Create(JsonObject configuration);
}

/// <summary>
/// A resolved run of one kind. The CLI, the notebooks and the sweep workers all run experiments through
/// this; none reimplements one.
/// </summary>
public interface IExperiment
{
    string Kind { get; }

    /// <summary>The resolved configuration, as it is saved in the run's config.json.</summary>
    JsonObject Configuration { get; }

    /// <summary>
    /// Runs into <paramref name="run"/> until done, stopped (cancellation: save what there is, so a later
    /// call on the same run directory continues) or failed. A run directory that already holds this
    /// experiment's checkpoint is continued from it rather than started again. Writes scores.json
    /// (<see cref="RunScores"/>) before returning, whatever the outcome.
    /// </summary>
    Task<ExperimentResult> RunAsync(Run run, IExperimentProgress progress, CancellationToken cancel);
}

public enum ExperimentOutcome
{
    Finished,

    /// <summary>Cancelled cleanly; the run directory holds what is needed to continue.</summary>
    Stopped,

    Failed,
}

public sealed record ExperimentResult(ExperimentOutcome Outcome, RunScores Scores, string? Message = null);

/// <summary>What a long run reports as it goes; calls come from the run's own thread and must return quickly.</summary>
public interface IExperimentProgress
{
    /// <summary>Once at the start: work already done (non-zero when continuing), the total, and its unit ("steps", "iterations", "calls").</summary>
    void Started(string description, long done, long total, string unit);

    /// <summary>As work advances, at least every few seconds on a long run.</summary>
    void Advanced(long done, double unitsPerSecond, string? detail);

    void Notice(string message);
}

/// <summary>
/// The numbers a sweep compares runs by, written as scores.json in every run directory when the run ends
/// (finished, stopped or failed). <see cref="Final"/> is null when the run did not finish: a sweep report
/// counts such a run as censored rather than dropping it.
/// </summary>
/// <param name="ScoreName">What the score is, for a reader: e.g. "deterministic evaluation mean return (100 episodes)".</param>
/// <param name="Final">The score at the end of the run (for ppo: the final deterministic evaluation).</param>
/// <param name="Best">The best score seen during the run (for ppo: the best periodic evaluation, or the final one when it is higher).</param>
/// <param name="Work">Work done: environment steps (ppo), iterations (qlearn) or LLM calls (compare).</param>
/// <param name="WorkUnit">"steps", "iterations" or "calls".</param>
/// <param name="WorkPerSecond">Throughput over the whole run (ppo: environment steps per second of training).</param>
/// <param name="Curve">Where the learning curve is: a table of the run, its x and y columns.</param>
public sealed record RunScores(
    string ScoreName,
    double? Final,
    double? Best,
    long Work,
    string WorkUnit,
    double? WorkPerSecond,
    CurveSource Curve)
{
    public const string FileName = "scores.json";
}

/// <summary>A learning curve inside a run: <c>&lt;Table&gt;.csv</c>, column <see cref="X"/> against column <see cref="Y"/>.</summary>
public sealed record CurveSource(string Table, string X, string Y);

/// <summary>A configuration that cannot be used: one sentence for the user (exit code 2 on the command line).</summary>
public sealed class ExperimentConfigException(string message) : Exception(message);
