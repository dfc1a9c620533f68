// Shared by the notebooks: run the built workbench like a user would, and show its PNGs inline.
// The notebooks load the Release build that `./rlw` (or `./rlw test`) produces.
#r "../src/RLWorkbench.Cli/bin/Release/net10.0/RLWorkbench.Tracking.dll"
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.DotNet.Interactive.Formatting;
using RLWorkbench.Tracking;

static readonly string WorkbenchDll = Path.GetFullPath("../src/RLWorkbench.Cli/bin/Release/net10.0/rlw.dll");
static readonly string NotebookRuns = Path.GetFullPath("../artifacts/notebook-runs");

/// Runs `rlw args...` and throws with its output if it fails.
static string Rlw(params string[] args)
{
    var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
    start.ArgumentList.Add(WorkbenchDll);
    foreach (var a in args) start.ArgumentList.Add(a);
    using var process = Process.Start(start)!;
    var output = process.StandardOutput.ReadToEndAsync();
    var error = process.StandardError.ReadToEndAsync();
    process.WaitForExit();
    if (process.ExitCode != 0)
        throw new Exception($"rlw {string.Join(' ', args)} failed ({process.ExitCode}): {error.Result}{output.Result}");
    return output.Result;
}

/// The run in artifacts/notebook-runs/<name>, made with `rlw args... --out <dir>` when it is missing or did not finish.
static RunRecord EnsureRun(string name, params string[] args)
{
    var dir = Path.Combine(NotebookRuns, name);
    var finished = File.Exists(Path.Combine(dir, "status.json")) && RunReader.Read(dir).Info.Status == RunStatus.Finished;
    if (!finished)
    {
        if (Directory.Exists(dir))
            Directory.Delete(dir, recursive: true);
        Rlw([.. args, "--out", dir]);
    }
    return RunReader.Read(dir);
}

/// Shows a PNG file inline.
static void ShowPng(string path) =>
    $"<img src=\"data:image/png;base64,{Convert.ToBase64String(File.ReadAllBytes(path))}\" style=\"max-width: 100%\"/>".DisplayAs("text/html");
