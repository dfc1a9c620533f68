namespace RLWorkbench.Cli.Tests;

public class QlearnPlotTests
{
    [Fact]
    public void A_load_balanced_qlearn_run_plots_its_dashboard_load_states_and_q_table_heatmaps()
    {
        var dir = Path.Combine(Workbench.TempDirectory(), "lb");
        var run = Workbench.Run("qlearn", "--load-balanced", "--seed", "3", "--out", dir);
        Assert.True(run.ExitCode == 0, run.Error);
        var plot = Workbench.Run("plot", dir);
        Assert.True(plot.ExitCode == 0, plot.Error);
        var plots = Directory.GetFiles(Path.Combine(dir, "artifacts", "plots"), "*.png").Select(Path.GetFileName).ToList();
        Assert.Contains("dashboard.png", plots);
        Assert.Contains("load_states.png", plots);
        Assert.Contains(plots, p => p!.StartsWith("qtable", StringComparison.Ordinal));
    }
}
