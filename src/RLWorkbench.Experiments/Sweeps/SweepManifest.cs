using System.Text.Json;
using System.Text.Json.Nodes;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Sweeps;

/// <summary>
/// sweep.json: a sweep fully resolved from its spec, written once before the first trial starts and read
/// by every worker (on this machine or a cluster node), by the backends and by the report. A trial is an
/// ordinary run directory, so `runs`, `plot` and `eval` work on it unchanged.
/// </summary>
/// <param name="Name">The spec's name (or its file name).</param>
/// <param name="Experiment">The kind every trial runs: ppo, qlearn or compare.</param>
/// <param name="SpecPath">The spec file it came from, for the reader; null for `ppo --seeds`.</param>
/// <param name="BaseConfiguration">The kind's defaults with the spec's configuration laid over them.</param>
/// <param name="SettingPaths">The dotted paths that vary between configurations (grid and random samples), canonical spelling.</param>
/// <param name="Configurations">Each distinct setting combination, keyed c00, c01, ...</param>
/// <param name="Seeds">Every configuration runs once per seed.</param>
/// <param name="Trials">Configurations x seeds, in launch order.</param>
/// <param name="Slurm">What `--backend slurm` asks the scheduler for.</param>
/// <param name="MaxParallel">The local backend's worker count; null means one per core.</param>
public sealed record SweepManifest(
    string Name,
    string Experiment,
    string? SpecPath,
    JsonObject BaseConfiguration,
    IReadOnlyList<string> SettingPaths,
    IReadOnlyList<SweepConfiguration> Configurations,
    IReadOnlyList<long> Seeds,
    IReadOnlyList<SweepTrial> Trials,
    SlurmSettings Slurm,
    int? MaxParallel,
    DateTimeOffset CreatedUtc)
{
    public const string FileName = "sweep.json";

    public static readonly JsonSerializerOptions Json = new(Run.Json) { PropertyNameCaseInsensitive = true };

    public void Save(string sweepDirectory) =>
        AtomicFile.WriteAllText(Path.Combine(sweepDirectory, FileName), JsonSerializer.Serialize(this, Json));

    public static SweepManifest Load(string sweepDirectory)
    {
        var path = Path.Combine(sweepDirectory, FileName);
        if (!File.Exists(path))
            throw new ExperimentConfigException($"'{sweepDirectory}' is not a sweep directory (it has no {FileName}).");
        return JsonSerializer.Deserialize<SweepManifest>(File.ReadAllText(path), Json)
            ?? throw new ExperimentConfigException($"{path} is empty.");
    }

    /// <summary>The label of the configuration <paramref name="trial"/> runs, or null when the manifest does not list it.</summary>
    public string? LabelOf(SweepTrial trial) => Configurations.FirstOrDefault(c => c.Key == trial.ConfigurationKey)?.Label;

    public SweepTrial Trial(int index) =>
        Trials.FirstOrDefault(t => t.Index == index)
        ?? throw new ExperimentConfigException($"the sweep has no trial {index}; its trials are 0 to {Trials.Count - 1}.");
}

/// <summary>One setting combination of a sweep.</summary>
/// <param name="Key">c00, c01, ...: short, stable, safe in a directory name.</param>
/// <param name="Settings">Each varied dotted path and its value here.</param>
/// <param name="Label">The settings for a reader: "ppo.learningRate=0.0001 ppo.entropyCoefficient=0" ("base" when nothing varies).</param>
public sealed record SweepConfiguration(string Key, IReadOnlyDictionary<string, JsonNode?> Settings, string Label);

/// <summary>One run of a sweep: a configuration with one seed.</summary>
/// <param name="Index">0-based; the worker command and a Slurm array task id name a trial by it.</param>
/// <param name="Id">"c00-seed3": the trial's directory name under trials/.</param>
/// <param name="Directory">Relative to the sweep directory ("trials/c00-seed3").</param>
/// <param name="Configuration">The trial's whole resolved configuration (seed included), as its run saves it.</param>
public sealed record SweepTrial(int Index, string Id, string ConfigurationKey, long Seed, string Directory, JsonObject Configuration);

/// <summary>What each Slurm array task asks for; a spec's "slurm" block and the command-line options set them.</summary>
public sealed record SlurmSettings
{
    public int CpusPerTask { get; init; } = 1;

    /// <summary>Memory per task in sbatch's notation ("2G", "1500M").</summary>
    public string Mem { get; init; } = "2G";

    /// <summary>Wall-time limit per task in sbatch's notation ("01:00:00").</summary>
    public string Time { get; init; } = "01:00:00";

    public string? Partition { get; init; }

    /// <summary>Further #SBATCH arguments, written as given (for example "--account=rl" or "--qos=short").</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];
}

/// <summary>
/// Decides only where a trial's process runs. Every backend runs the same worker command
/// (<see cref="SweepLayout.WorkerArguments"/>), so a trial's numbers never depend on its backend.
/// </summary>
public interface ISweepBackend
{
    string Name { get; }

    /// <summary>
    /// Runs these trials (none of them finished) and returns when every one has ended or the sweep was
    /// stopped. A trial whose worker died without recording an end (killed, node lost, out of time) is
    /// marked failed by the backend with its log path (<see cref="TrialRecords.MarkFailed"/>).
    /// Stopping (cancellation): a backend whose workers are its own processes stops every worker cleanly, so a
    /// rerun continues from their checkpoints; a scheduler backend (Slurm) stops following and leaves the jobs it
    /// submitted to the scheduler, which a rerun follows instead of submitting them again.
    /// </summary>
    Task RunAsync(SweepManifest manifest, string sweepDirectory, IReadOnlyList<SweepTrial> trials, Action<string> notice, CancellationToken cancel);
}
