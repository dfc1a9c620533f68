namespace RLWorkbench.Cli.Tests;

/// <summary>
/// experiments/sweep-smoke.json on the local backend, run once per test process and shared read-only by
/// the tests that check it (the sweep command's own test and the Slurm-against-local comparison), so the
/// suite pays for it once.
/// </summary>
internal static class SmokeSweep
{
    public static readonly string Spec = Path.Combine(RepositoryPaths.Root, "experiments", "sweep-smoke.json");

    private static readonly Lazy<(Workbench.Result Result, string Directory)> LocalRun = new(() =>
    {
        var directory = Path.Combine(Workbench.TempDirectory(), "smoke");
        return (Workbench.Run("sweep", Spec, "--backend", "local", "--out", directory, "--plain"), directory);
    });

    /// <summary>The finished local sweep: what `rlw sweep` printed and where it ran.</summary>
    public static (Workbench.Result Result, string Directory) Local => LocalRun.Value;
}
