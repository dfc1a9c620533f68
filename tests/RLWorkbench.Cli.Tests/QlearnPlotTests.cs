namespace RLWorkbench.Cli.Tests;

public class QlearnPlotTests
{
    [Fact]
    public void A_load_balanced_qlearn_run_plots_its_dashboard_load_states_and_one_q_table_heatmap()
    {
        var dir = Path.Combine(Workbench.TempDirectory(), "lb");
        var run = Workbench.Run("qlearn", "--load-balanced", "--seed", "3", "--out", dir);
        Assert.True(run.ExitCode == 0, run.Error);
        var plot = Workbench.Run("plot", dir);
        Assert.True(plot.ExitCode == 0, plot.Error);
        var plots = Directory.GetFiles(Path.Combine(dir, "artifacts", "plots")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["dashboard.png", "load_states.png", "qtable.png"], plots);
        Assert.Contains("note: qtable.png shows the ", plot.Error);
    }
}
