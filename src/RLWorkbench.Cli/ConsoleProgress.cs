using System.Globalization;
using RLWorkbench.Experiments;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace RLWorkbench.Cli;

/// <summary>
/// A live progress display for an interactive terminal: a bar line (bar, percentage, count, rate, time left) and, under
/// it, the latest report's fields on up to two lines, so at 80 columns the bar keeps most of its line and the
/// numbers (training return, last evaluation, losses) stay readable instead of being cut to fit beside it.
/// </summary>
public sealed class BarProgress(LiveDisplayContext context) : IExperimentProgress
{
    /// <summary>The narrowest bar drawn; fields on the bar line give way (time left first) before it shrinks further.</summary>
    public const int MinimumBarWidth = 10;

    /// <summary>Report lines under the bar; fields that do not fit on them are left out (the last are the least telling).</summary>
    public const int DetailLines = 2;

    private long done;
    private long total;
    private string unit = "";
    private double unitsPerSecond;
    private string? detail;

    public void Started(string description, long done, long total, string unit)
    {
        AnsiConsole.WriteLine(description);
        this.done = done;
        this.total = total;
        this.unit = unit;
        Redraw();
    }

    public void Advanced(long done, double unitsPerSecond, string? detail)
    {
        this.done = done;
        this.unitsPerSecond = unitsPerSecond;
        this.detail = detail;
        Redraw();
    }

    public void Notice(string message) => AnsiConsole.WriteLine(message);

    private void Redraw()
    {
        var lines = Lines(AnsiConsole.Profile.Width, done, total, unit, unitsPerSecond, detail, AnsiConsole.Profile.Capabilities.Unicode);
        context.UpdateTarget(new Rows(lines.Select(l => (IRenderable)new Text(l))));
        context.Refresh();
    }

    /// <summary>
    /// The display's lines for a terminal <paramref name="width"/> columns wide, each shorter than it (a line that
    /// fills the last column makes some terminals wrap, which garbles a live display). Report fields are the parts of
    /// <paramref name="detail"/> two spaces apart, kept whole and in order.
    /// </summary>
    public static IReadOnlyList<string> Lines(int width, long done, long total, string unit, double unitsPerSecond, string? detail, bool unicode)
    {
        var room = Math.Max(MinimumBarWidth + 8, width - 1);
        var fraction = total > 0 ? Math.Clamp((double)done / total, 0, 1) : 0;
        var fields = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"{fraction * 100,3:F0}%"),
            string.Create(CultureInfo.InvariantCulture, $"{done:N0}/{total:N0} {unit}"),
        };
        if (double.IsFinite(unitsPerSecond) && unitsPerSecond > 0)
        {
            fields.Add(string.Create(CultureInfo.InvariantCulture, $"{unitsPerSecond:N0}/s"));
            fields.Add("ETA " + Clock(TimeSpan.FromSeconds(Math.Max(0, total - done) / unitsPerSecond)));
        }
        var tail = string.Join("  ", fields);
        while (room - 1 - tail.Length < MinimumBarWidth && fields.Count > 1)
        {
            fields.RemoveAt(fields.Count - 1);
            tail = string.Join("  ", fields);
        }
        var barWidth = Math.Max(MinimumBarWidth, room - 1 - tail.Length);
        var filled = (int)Math.Round(fraction * barWidth);
        var (full, empty) = unicode ? ('█', '░') : ('#', '-');
        var lines = new List<string> { new string(full, filled) + new string(empty, barWidth - filled) + " " + tail };
        lines.AddRange(Pack(detail, room));
        return lines;
    }

    private static IEnumerable<string> Pack(string? detail, int room)
    {
        if (string.IsNullOrWhiteSpace(detail))
            yield break;
        var line = "";
        var count = 0;
        foreach (var field in detail.Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var piece = field.Length > room ? field[..room] : field;
            if (line.Length == 0)
                line = piece;
            else if (line.Length + 2 + piece.Length <= room)
                line += "  " + piece;
            else
            {
                yield return line;
                if (++count == DetailLines)
                    yield break;
                line = piece;
            }
        }
        if (line.Length > 0)
            yield return line;
    }

    private static string Clock(TimeSpan t) => string.Create(CultureInfo.InvariantCulture, $"{(long)t.TotalHours:00}:{t.Minutes:00}:{t.Seconds:00}");

    /// <summary>Runs <paramref name="work"/> under a live display and returns what it returns.</summary>
    public static T Show<T>(Func<IExperimentProgress, T> work)
    {
        var result = default(T)!;
        AnsiConsole.Live(new Text(""))
            .AutoClear(false)
            .Overflow(VerticalOverflow.Ellipsis)
            .Start(context => result = work(new BarProgress(context)));
        return result;
    }

    /// <summary>Whether a live display can be drawn: an interactive terminal that is not redirected.</summary>
    public static bool Available(bool forcePlain) => !forcePlain && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
}
