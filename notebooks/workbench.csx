// Shared by the notebooks: make runs through the workbench's experiment API (the same library calls the CLI and the
// sweep workers make), and show PNGs inline. The notebooks load the Release build that `./rlw` (or `./rlw test`) produces.
#r "../src/RLWorkbench.Cli/bin/Release/net10.0/RLWorkbench.Gym.dll"
#r "../src/RLWorkbench.Cli/bin/Release/net10.0/RLWorkbench.Simulation.dll"
#r "../src/RLWorkbench.Cli/bin/Release/net10.0/RLWorkbench.Tracking.dll"
#r "../src/RLWorkbench.Cli/bin/Release/net10.0/TorchSharp.dll"
#r "../src/RLWorkbench.Cli/bin/Release/net10.0/RLWorkbench.Ppo.dll"
#r "../src/RLWorkbench.Cli/bin/Release/net10.0/RLWorkbench.Routing.dll"
#r "../src/RLWorkbench.Cli/bin/Release/net10.0/RLWorkbench.Comparison.dll"
#r "../src/RLWorkbench.Cli/bin/Release/net10.0/RLWorkbench.Experiments.dll"
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading;
using Microsoft.DotNet.Interactive.Formatting;
using RLWorkbench.Experiments;
using RLWorkbench.Tracking;
using RLWorkbench.Tracking.Plots;

// The kernel looks for native libraries (libtorch, SkiaSharp) next to itself, not in the build's runtimes folder:
// resolve the native imports of the assemblies that have them from there.
static readonly string NativeDirectory = Path.GetFullPath("../src/RLWorkbench.Cli/bin/Release/net10.0/runtimes/linux-x64/native");
static readonly string[] WithNativeLibraries = ["TorchSharp", "SkiaSharp", "HarfBuzzSharp"];
static void ResolveNativeLibraries(System.Reflection.Assembly assembly)
{
    if (!WithNativeLibraries.Contains(assembly.GetName().Name))
        return;
    NativeLibrary.SetDllImportResolver(assembly, (name, _, _) =>
    {
        foreach (var file in new[] { name, $"lib{name}.so", $"{name}.so" })
        {
            if (NativeLibrary.TryLoad(Path.Combine(NativeDirectory, file), out var handle))
                return handle;
        }
        return IntPtr.Zero;
    });
}
AppDomain.CurrentDomain.AssemblyLoad += (_, e) => ResolveNativeLibraries(e.LoadedAssembly);
foreach (var loaded in AppDomain.CurrentDomain.GetAssemblies())
    ResolveNativeLibraries(loaded);

static readonly string NotebookRuns = Path.GetFullPath("../artifacts/notebook-runs");

/// <summary>
/// The finished run artifacts/notebook-runs/<name>: an experiment of <paramref name="kind"/> (ppo, qlearn, compare) with
/// the given settings changed from its defaults, by the dotted paths --set takes. Made here, with its figures, when it
/// is missing, did not finish, or was made by another build of the workbench.
/// </summary>
static RunRecord EnsureRun(string name, string kind, params (string Path, object Value)[] settings)
{
    var dir = Path.Combine(NotebookRuns, name);
    // The runs are a cache of what this build makes: a run an older build made may lack files or hold other
    // figures (a renamed plot, a renamed column), so it is made again rather than half-read.
    var stamp = Path.Combine(NotebookRuns, name + ".build");
    var finished = File.Exists(Path.Combine(dir, "status.json")) && RunReader.Read(dir).Info.Status == RunStatus.Finished
        && File.Exists(stamp) && File.ReadAllText(stamp) == BuildStamp;
    if (!finished)
    {
        if (Directory.Exists(dir))
            Directory.Delete(dir, recursive: true);
        var experimentKind = ExperimentCatalog.Default.Get(kind);
        var configuration = experimentKind.Defaults();
        foreach (var (path, value) in settings)
            ConfigPaths.Set(configuration, path, JsonSerializer.SerializeToNode(value));
        var experiment = experimentKind.Create(configuration);
        ExperimentResult result;
        using (var run = new RunStore(NotebookRuns).CreateIn(dir, experimentKind.Name))
            result = experiment.RunAsync(run, ExperimentProgress.Silent, CancellationToken.None).GetAwaiter().GetResult();
        if (result.Outcome != ExperimentOutcome.Finished)
            throw new Exception($"{kind} run {name} ended {result.Outcome}: {result.Message}");
        RunPlotter.Plot(RunReader.Read(dir));
        File.WriteAllText(stamp, BuildStamp);
    }
    return RunReader.Read(dir);
}

/// <summary>The module version ids of the assemblies that make and draw runs: they change whenever their code does.</summary>
static readonly string BuildStamp = string.Join(",", new[] { typeof(ExperimentCatalog), typeof(RunStore), typeof(RLWorkbench.Ppo.PpoTrainer), typeof(RLWorkbench.Routing.Workflow.QlearnSession), typeof(RLWorkbench.Comparison.ComparisonRunner), typeof(RLWorkbench.Simulation.TaskEnvironment) }
    .Select(t => t.Assembly).Distinct().Select(a => a.ManifestModule.ModuleVersionId));

/// <summary>A run's scores.json: what a sweep compares it by.</summary>
static RunScores ScoresOf(RunRecord run) =>
    JsonSerializer.Deserialize<RunScores>(File.ReadAllText(Path.Combine(run.Directory, RunScores.FileName)), Run.Json)!;

/// <summary>Shows a PNG file inline.</summary>
static void ShowPng(string path) =>
    $"<img src=\"data:image/png;base64,{Convert.ToBase64String(File.ReadAllBytes(path))}\" style=\"max-width: 100%\"/>".DisplayAs("text/html");
