using System.CommandLine;
using System.Text.Json.Nodes;
using RLWorkbench.Experiments;
using RLWorkbench.Experiments.Sweeps;

namespace RLWorkbench.Cli.Commands;

/// <summary>
/// `ppo --seeds 0-4`, `qlearn --seeds 0-4`: the command's resolved configuration run once per seed as one
/// sweep on local worker processes, then each seed's final score and their mean with a 95% interval.
/// </summary>
internal static class SeedSweep
{
    public static Option<string?> Option() => new("--seeds")
    {
        Description = "Run this configuration once per seed ('0-4', '0,2,7') as one sweep of local worker processes, then print each seed's final score "
            + "and the mean with a 95% Student-t interval. --out is then the sweep directory (default artifacts/sweeps/<kind>-seeds-<time>); "
            + "the same command with the same --out resumes it.",
    };

    /// <summary>Refuses options that make no sense with --seeds, before anything is written.</summary>
    public static void CheckOptions(string? seeds, params (string Name, bool Given)[] conflicting)
    {
        if (seeds is null)
            return;
        foreach (var (name, given) in conflicting)
        {
            if (given)
                throw new UsageException(name == "--resume"
                    ? "--seeds starts a sweep of new runs, so --resume cannot be given with it; run the same --seeds command with the same --out to resume a seed sweep."
                    : $"--seeds gives every run its seed, so {name} cannot be given with it.");
        }
    }

    public static int Run(IExperimentKind kind, JsonObject configuration, string seedsText, string? outDirectory, bool plain, TextWriter output, TextWriter error)
    {
        var seeds = SeedList.Parse(seedsText);
        var created = TimeProvider.System.GetUtcNow();
        var directory = Path.GetFullPath(outDirectory ?? SweepSpec.DefaultDirectory($"{kind.Name}-seeds-{created:yyyyMMdd-HHmmss}"));
        // Named after its directory, so running the same command with the same --out is the same sweep and resumes.
        var manifest = SweepPlanner.ForSeeds(kind, configuration, seeds, Path.GetFileName(directory), created);
        var outcome = SweepExecution.Run(manifest, directory, SweepBackends.Local, plain, output, error);
        output.WriteLine();
        output.Write(SweepResults.SeedSummary(outcome.Results));
        return outcome.ExitCode;
    }
}
