using System.Globalization;

namespace RLWorkbench.Experiments;

/// <summary>Progress sinks for callers that do not draw their own: nothing at all, or plain lines (notebooks, logs).</summary>
public static class ExperimentProgress
{
    /// <summary>Reports nothing.</summary>
    public static IExperimentProgress Silent { get; } = new SilentProgress();

    /// <summary>One line for the start, each notice and each report: "[ppo] 16,384/50,000 steps  3,012/s  ep_rew_mean ...".</summary>
    public static IExperimentProgress Lines(TextWriter output) => new LineProgress(output);

    private sealed class SilentProgress : IExperimentProgress
    {
        public void Started(string description, long done, long total, string unit) { }

        public void Advanced(long done, double unitsPerSecond, string? detail) { }

        public void Notice(string message) { }
    }

    private sealed class LineProgress(TextWriter output) : IExperimentProgress
    {
        private readonly Lock gate = new();
        private long total;
        private string unit = "";

        public void Started(string description, long done, long total, string unit)
        {
            lock (gate)
            {
                this.total = total;
                this.unit = unit;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{description} ({done:N0} of {total:N0} {unit} done)"));
            }
        }

        public void Advanced(long done, double unitsPerSecond, string? detail)
        {
            lock (gate)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{done:N0}/{total:N0} {unit}  {unitsPerSecond:N0}/s{(detail is null ? "" : "  " + detail.Trim())}"));
        }

        public void Notice(string message)
        {
            lock (gate)
                output.WriteLine(message);
        }
    }
}
