using System.Diagnostics;

namespace RLWorkbench.Cli.Tests;

/// <summary>Runs the built `rlw` as a user would, in its own process, and captures what it prints.</summary>
internal static class Workbench
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static Result Run(params string[] args) => RunIn(Directory.GetCurrentDirectory(), args);

    public static Result RunIn(string workingDirectory, params string[] args) =>
        RunWith(StartInfo(workingDirectory, args), TimeSpan.FromMinutes(2));

    /// <summary>Runs `rlw` as <paramref name="start"/> describes (extra environment variables, say), killing it after <paramref name="limit"/>.</summary>
    public static Result RunWith(ProcessStartInfo start, TimeSpan limit)
    {
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"rlw {string.Join(' ', start.ArgumentList.Skip(1))} did not finish in {limit.TotalMinutes:0} minutes.");
        }
        return new Result(process.ExitCode, output.Result, error.Result);
    }

    /// <summary>The built rlw.dll under `dotnet`, in <paramref name="workingDirectory"/>, with its output captured.</summary>
    public static ProcessStartInfo StartInfo(string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "rlw.dll"));
        foreach (var a in args)
            start.ArgumentList.Add(a);
        return start;
    }

    /// <summary>Starts `rlw` without waiting, for tests that signal it while it runs; read its output once it has exited.</summary>
    public static Background Start(string workingDirectory, params string[] args)
    {
        var process = Process.Start(StartInfo(workingDirectory, args))!;
        return new Background(process, process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
    }

    public sealed record Background(Process Process, Task<string> Output, Task<string> Error) : IDisposable
    {
        public Result Wait(TimeSpan timeout)
        {
            if (!Process.WaitForExit(timeout))
            {
                Process.Kill(entireProcessTree: true);
                throw new TimeoutException($"rlw did not finish in {timeout}.");
            }
            return new Result(Process.ExitCode, Output.Result, Error.Result);
        }

        public void Dispose()
        {
            if (!Process.HasExited)
                Process.Kill(entireProcessTree: true);
            Process.Dispose();
        }
    }

    /// <summary>Sends a POSIX signal as a terminal or `kill` would.</summary>
    public static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    public static string TempDirectory()
    {
        var dir = Path.Combine(Path.GetTempPath(), "rlw-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
