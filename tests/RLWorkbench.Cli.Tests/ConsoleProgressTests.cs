using Spectre.Console;
using Spectre.Console.Rendering;

namespace RLWorkbench.Cli.Tests;

public class ConsoleProgressTests
{
    private const string PpoDetail =
        "ep_rew_mean 412.3  eval -512.0 at 8,192  policy_loss -0.0123  value_loss 1.23E+03  approx_kl 0.00612  rollout 1.02 s  update 1.50 s";

    /// <summary>What a terminal <paramref name="width"/> columns wide shows for the lines, as Spectre.Console lays them out.</summary>
    private static string[] Rendered(IReadOnlyList<string> lines, int width)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = width;
        console.Write(new Rows(lines.Select(l => (IRenderable)new Text(l))));
        return writer.ToString().TrimEnd('\n').Split('\n');
    }

    [Fact]
    public void At_80_columns_the_bar_keeps_a_usable_width_and_the_evaluation_and_losses_show_whole_under_it()
    {
        var lines = BarProgress.Lines(80, 425_984, 1_000_000, "steps", 3210, PpoDetail, unicode: false);
        Assert.Equal(
        [
            "###########---------------  43%  425,984/1,000,000 steps  3,210/s  ETA 00:02:58",
            "ep_rew_mean 412.3  eval -512.0 at 8,192  policy_loss -0.0123",
            "value_loss 1.23E+03  approx_kl 0.00612  rollout 1.02 s  update 1.50 s",
        ], lines);
        // Spectre lays each out on one terminal line: nothing wraps at 80 columns.
        Assert.Equal(lines, Rendered(lines, 80));
    }

    [Fact]
    public void A_narrow_terminal_drops_the_time_left_before_the_bar_goes_below_its_minimum()
    {
        var lines = BarProgress.Lines(60, 500_000, 1_000_000, "steps", 3210, PpoDetail, unicode: true);
        Assert.Equal(
        [
            "██████████░░░░░░░░░░  50%  500,000/1,000,000 steps  3,210/s",
            "ep_rew_mean 412.3  eval -512.0 at 8,192",
            "policy_loss -0.0123  value_loss 1.23E+03  approx_kl 0.00612",
        ], lines);
        Assert.Equal(lines, Rendered(lines, 60));
    }

    [Fact]
    public void Before_the_first_report_the_bar_shows_the_count_without_rate_or_details()
    {
        Assert.Equal([new string('-', 58) + "   0%  0/50,000 steps"],
            BarProgress.Lines(80, 0, 50_000, "steps", 0, null, unicode: false));
    }
}
