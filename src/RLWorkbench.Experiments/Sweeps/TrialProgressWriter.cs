using System.Text.Json;
using RLWorkbench.Tracking;

namespace RLWorkbench.Experiments.Sweeps;

/// <summary>
/// A trial's progress sink: progress.json every couple of seconds (what the sweep's display sums over
/// workers, on this machine or a cluster node) and a plain line in the trial's log every so often.
/// </summary>
public sealed class TrialProgressWriter(string trialDirectory, TextWriter log, TimeProvider clock) : IExperimentProgress
{
    public static readonly TimeSpan WriteEvery = TimeSpan.FromSeconds(2);

    public static readonly TimeSpan LogEvery = TimeSpan.FromSeconds(10);

    private long done;
    private long total;
    private string unit = "steps";
    private double unitsPerSecond;
    private DateTimeOffset lastWrite = DateTimeOffset.MinValue;
    private DateTimeOffset lastLog = DateTimeOffset.MinValue;

    public string ProgressPath => Path.Combine(trialDirectory, SweepLayout.ProgressFile);

    public void Started(string description, long done, long total, string unit)
    {
        this.done = done;
        this.total = total;
        this.unit = unit;
        log.WriteLine(done > 0 ? $"{description}: continuing at {done:N0} of {total:N0} {unit}." : $"{description}: {total:N0} {unit}.");
        Write(clock.GetUtcNow());
    }

    public void Advanced(long done, double unitsPerSecond, string? detail)
    {
        this.done = done;
        this.unitsPerSecond = unitsPerSecond;
        var now = clock.GetUtcNow();
        if (now - lastWrite >= WriteEvery)
            Write(now);
        if (now - lastLog >= LogEvery)
        {
            lastLog = now;
            log.WriteLine($"{now:HH:mm:ss} {done:N0}/{total:N0} {unit}  {unitsPerSecond:N0} {unit}/s{(detail is null ? "" : "  " + detail)}");
        }
    }

    public void Notice(string message) => log.WriteLine(message);

    /// <summary>Writes the last state, so the final progress.json says where the trial ended.</summary>
    public void Flush() => Write(clock.GetUtcNow());

    public static TrialProgress? Read(string trialDirectory)
    {
        var path = Path.Combine(trialDirectory, SweepLayout.ProgressFile);
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<TrialProgress>(File.ReadAllText(path), SweepManifest.Json) : null;
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            // Written atomically, so this is a file from another build or a disk problem: no progress to show.
            return null;
        }
    }

    private void Write(DateTimeOffset now)
    {
        lastWrite = now;
        AtomicFile.WriteAllText(ProgressPath, JsonSerializer.Serialize(new TrialProgress(done, total, unit, unitsPerSecond, now), SweepManifest.Json));
    }
}
