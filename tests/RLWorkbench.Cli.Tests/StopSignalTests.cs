using System.Diagnostics;

namespace RLWorkbench.Cli.Tests;

public class StopSignalTests
{
    [Fact]
    public async Task Ctrl_c_stops_qlearn_cleanly_and_resume_finishes_the_same_run()
    {
        var dir = Path.Combine(Workbench.TempDirectory(), "interrupted");
        using var process = Process.Start(Workbench.StartInfo(Directory.GetCurrentDirectory(), "qlearn", "--iterations", "40", "--simulated-call-seconds", "0.1", "--out", dir))!;
        var error = process.StandardError.ReadToEndAsync();

        // Wait for a few iterations, then send SIGINT as a terminal's Ctrl+C would.
        var seen = new List<string>();
        while (process.StandardOutput.ReadLine() is { } line)
        {
            seen.Add(line);
            if (line.StartsWith("[  3/40]", StringComparison.Ordinal))
                break;
        }
        Assert.True(seen.Count > 0 && seen[^1].StartsWith("[  3/40]", StringComparison.Ordinal), string.Join('\n', seen));
        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString()]))
            kill.WaitForExit();
        var rest = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "qlearn did not stop after Ctrl+C");

        var errors = await error;
        Assert.Equal(1, process.ExitCode);
        Assert.Contains("Stopping: saving the Q-table and logs", errors);
        Assert.Contains("Continue with: qlearn --resume", errors);
        Assert.Contains("\"status\": \"killed\"", File.ReadAllText(Path.Combine(dir, "status.json")));
        var done = File.ReadAllLines(Path.Combine(dir, "iterations.csv")).Length - 1;
        Assert.InRange(done, 3, 39);
        Assert.True(File.Exists(Path.Combine(dir, "artifacts", "qtable.json")), rest);

        var resumed = Workbench.Run("qlearn", "--resume", dir);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Equal(1 + 40, File.ReadAllLines(Path.Combine(dir, "iterations.csv")).Length);
        Assert.Contains("\"status\": \"finished\"", File.ReadAllText(Path.Combine(dir, "status.json")));
    }
}

public class StopSignalRepeatTests
{
    private sealed class ManualClock : TimeProvider
    {
        public long Ticks { get; set; }
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => Ticks;
    }

    [Fact]
    public void A_signal_delivered_twice_at_once_is_one_stop_request_and_a_later_one_is_a_second()
    {
        var clock = new ManualClock();
        using var signal = new StopSignal(TextWriter.Null, "Stopping", RepeatedSignal.Escalates, clock);

        var first = new System.Runtime.InteropServices.PosixSignalContext(System.Runtime.InteropServices.PosixSignal.SIGTERM);
        signal.OnSignal(first);
        Assert.True(first.Cancel);
        Assert.True(signal.Token.IsCancellationRequested);

        // The group's copy of the same SIGTERM, 1 ms later: kept alive, not escalated.
        clock.Ticks += TimeSpan.FromMilliseconds(1).Ticks;
        var copy = new System.Runtime.InteropServices.PosixSignalContext(System.Runtime.InteropServices.PosixSignal.SIGTERM);
        signal.OnSignal(copy);
        Assert.True(copy.Cancel);
        Assert.False(signal.Escalated.IsCancellationRequested);

        // A person's second Ctrl+C half a second later is a second request.
        clock.Ticks += TimeSpan.FromMilliseconds(500).Ticks;
        signal.OnSignal(new System.Runtime.InteropServices.PosixSignalContext(System.Runtime.InteropServices.PosixSignal.SIGINT));
        Assert.True(signal.Escalated.IsCancellationRequested);
    }

    [Fact]
    public void By_default_a_second_signal_after_the_window_ends_the_process()
    {
        var clock = new ManualClock();
        using var signal = new StopSignal(TextWriter.Null, "Stopping", RepeatedSignal.EndsProcess, clock);
        signal.OnSignal(new System.Runtime.InteropServices.PosixSignalContext(System.Runtime.InteropServices.PosixSignal.SIGINT));
        clock.Ticks += TimeSpan.FromMilliseconds(50).Ticks;
        var copy = new System.Runtime.InteropServices.PosixSignalContext(System.Runtime.InteropServices.PosixSignal.SIGINT);
        signal.OnSignal(copy);
        Assert.True(copy.Cancel);

        clock.Ticks += TimeSpan.FromSeconds(1).Ticks;
        var second = new System.Runtime.InteropServices.PosixSignalContext(System.Runtime.InteropServices.PosixSignal.SIGINT);
        signal.OnSignal(second);
        Assert.False(second.Cancel);
    }
}
