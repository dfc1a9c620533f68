using RLWorkbench.Experiments.Compare;
using RLWorkbench.Experiments.Ppo;
using RLWorkbench.Experiments.Qlearn;

namespace RLWorkbench.Experiments;

/// <summary>The kinds of run the workbench knows, looked up by name (a sweep spec's "experiment", a worker's trial).</summary>
public sealed class ExperimentCatalog(IReadOnlyList<IExperimentKind> kinds)
{
    /// <summary>ppo, qlearn and compare, reading API keys from the process environment and time from the system clock.</summary>
    public static ExperimentCatalog Default { get; } = new([new PpoExperimentKind(), new QlearnExperimentKind(), new CompareExperimentKind()]);

    public IReadOnlyList<IExperimentKind> All { get; } = kinds;

    public IExperimentKind Get(string name) =>
        All.FirstOrDefault(k => string.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ExperimentConfigException($"unknown experiment '{name}'; allowed: {string.Join(", ", All.Select(k => k.Name))}.");
}
