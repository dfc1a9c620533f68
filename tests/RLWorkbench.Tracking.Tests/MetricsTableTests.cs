namespace RLWorkbench.Tracking.Tests;

public class MetricsTableTests
{
    [Fact]
    public void A_row_that_does_not_fit_on_the_disk_is_cut_back_and_the_error_names_the_file()
    {
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "episodes.csv");
        // Room for the header ("episode,reward\n", 15 bytes), one row ("1,0.5\n", 6 bytes) and 3 bytes of the next.
        using (var table = new MetricsTable(path, ["episode", "reward"], open: FullDiskStream.Opener(15 + 6 + 3)))
        {
            table.AppendRow(1, 0.5);
            var error = Assert.Throws<IOException>(() => table.AppendRow(2, 0.25));
            Assert.Contains(path, error.Message);
            Assert.Contains("No space left on device", error.Message);
        }

        Assert.Equal("episode,reward\n1,0.5\n", File.ReadAllText(path));
    }
}
