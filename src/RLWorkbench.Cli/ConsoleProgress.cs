using System.Globalization;
using RLWorkbench.Experiments;
using Spectre.Console;

namespace RLWorkbench.Cli;

/// <summary>A live Spectre.Console progress bar for an interactive terminal: one task, its description the latest report.</summary>
public sealed class BarProgress(ProgressContext context) : IExperimentProgress
{
    private ProgressTask? task;
    private string unit = "";

    public void Started(string description, long done, long total, string unit)
    {
        AnsiConsole.WriteLine(description);
        this.unit = unit;
        task = context.AddTask(Markup.Escape($"{unit} {done:N0}"), maxValue: total);
        task.Value = done;
    }

    public void Advanced(long done, double unitsPerSecond, string? detail)
    {
        if (task is null)
            return;
        task.Value = done;
        var words = string.Create(CultureInfo.InvariantCulture, $"{done:N0} {unit}  {unitsPerSecond:N0}/s  {detail}")
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // A description wider than the room beside the bar wraps and garbles the live display, so it ends at a word that fits.
        var room = Math.Max(30, AnsiConsole.Profile.Width - 40);
        var text = words[0];
        foreach (var word in words.Skip(1))
        {
            if (text.Length + 1 + word.Length > room)
                break;
            text += " " + word;
        }
        task.Description = Markup.Escape(text);
    }

    public void Notice(string message) => AnsiConsole.WriteLine(message);

    /// <summary>Runs <paramref name="work"/> under a live bar and returns what it returns.</summary>
    public static T Show<T>(Func<IExperimentProgress, T> work)
    {
        var result = default(T)!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new ElapsedTimeColumn())
            .Start(context => result = work(new BarProgress(context)));
        return result;
    }

    /// <summary>Whether a live bar can be drawn: an interactive terminal that is not redirected.</summary>
    public static bool Available(bool forcePlain) => !forcePlain && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
}
