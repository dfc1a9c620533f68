using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using RLWorkbench.Experiments.Sweeps;
using Spectre.Console;

namespace RLWorkbench.Cli.Commands;

/// <summary>
/// One overall display while a sweep runs: trials finished, running, failed and pending, the total work
/// rate over the running trials and an ETA. A live Spectre.Console view on an interactive terminal; plain
/// lines (on a change, and every 10 s) when output is redirected or --plain is given. Backend notices (a
/// failed trial and its log) are printed as they come.
/// </summary>
internal static class SweepProgressDisplay
{
    private static readonly TimeSpan PlainEvery = TimeSpan.FromSeconds(10);

    public static void Run(SweepRunner runner, ISweepBackend backend, bool plain, TextWriter output, CancellationToken stop)
    {
        var notices = new ConcurrentQueue<string>();
        var work = runner.RunAsync(backend, notices.Enqueue, stop);
        if (BarProgress.Available(plain))
            Live(runner.Monitor, work, notices, output);
        else
            Plain(runner.Monitor, work, notices, output);
        work.GetAwaiter().GetResult();
    }

    private static void Plain(SweepMonitor monitor, Task work, ConcurrentQueue<string> notices, TextWriter output)
    {
        var clock = Stopwatch.StartNew();
        var lastCounts = "";
        var lastPrinted = TimeSpan.MinValue;
        while (true)
        {
            var done = work.Wait(TimeSpan.FromSeconds(1));
            while (notices.TryDequeue(out var notice))
                output.WriteLine(notice);
            var snapshot = monitor.Snapshot();
            var counts = Counts(snapshot);
            if (done || counts != lastCounts || clock.Elapsed - lastPrinted >= PlainEvery)
            {
                output.WriteLine($"[{Clock(clock.Elapsed)}] {counts} | {Rate(snapshot)}");
                lastCounts = counts;
                lastPrinted = clock.Elapsed;
            }
            if (done)
                return;
        }
    }

    private static void Live(SweepMonitor monitor, Task work, ConcurrentQueue<string> notices, TextWriter output)
    {
        var shown = new List<string>();
        AnsiConsole.Live(new Text("")).AutoClear(false).Start(context =>
        {
            while (true)
            {
                var done = work.Wait(TimeSpan.FromMilliseconds(500));
                while (notices.TryDequeue(out var notice))
                    shown.Add(notice);
                context.UpdateTarget(View(monitor.Snapshot(), shown));
                context.Refresh();
                if (done)
                    return;
            }
        });
        // The live view keeps only the last few notices; every one stays readable after it.
        foreach (var notice in shown)
            output.WriteLine(notice);
    }

    private static Rows View(SweepSnapshot snapshot, List<string> notices)
    {
        var table = new Table().Border(TableBorder.Simple).AddColumns("trial", "configuration", "progress", "rate");
        foreach (var trial in snapshot.RunningTrials)
        {
            var p = trial.Progress;
            table.AddRow(
                Markup.Escape(trial.Trial.Id),
                Markup.Escape(trial.Label),
                p is null ? "starting" : $"{p.Done:N0}/{p.Total:N0} {Markup.Escape(p.Unit)} ({(p.Total > 0 ? 100.0 * p.Done / p.Total : 0):F0}%)",
                p is null ? "" : $"{p.UnitsPerSecond:N0}/s");
        }
        var rows = new List<Spectre.Console.Rendering.IRenderable>
        {
            new Markup($"[bold]{Markup.Escape(Counts(snapshot))}[/] | {Markup.Escape(Rate(snapshot))}"),
        };
        if (snapshot.RunningTrials.Count > 0)
            rows.Add(table);
        rows.AddRange(notices.TakeLast(5).Select(n => new Markup($"[grey]{Markup.Escape(n)}[/]")));
        return new Rows(rows);
    }

    internal static string Counts(SweepSnapshot s) =>
        $"finished {s.Finished}/{s.Total}{(s.FinishedEarlier > 0 ? $" ({s.FinishedEarlier} earlier)" : "")}, running {s.Running}, failed {s.Failed}"
        + $"{(s.Stopped > 0 ? $", stopped {s.Stopped}" : "")}, pending {s.Pending}";

    internal static string Rate(SweepSnapshot s) =>
        $"{s.UnitsPerSecond.ToString("N0", CultureInfo.InvariantCulture)} {s.Unit}/s | ETA {(s.Eta is { } eta ? Clock(eta) : "--:--:--")}";

    /// <summary>Hours past a day stay hours (26:10:00), as a long sweep's ETA needs.</summary>
    private static string Clock(TimeSpan t) => $"{(int)t.TotalHours:00}:{t.Minutes:00}:{t.Seconds:00}";
}
