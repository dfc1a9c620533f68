namespace RLWorkbench.Tracking.Tests;

public sealed class AtomicFileTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void A_write_that_fails_part_way_leaves_the_old_file_and_no_temporary_one()
    {
        var path = temp.Combine("summary.json");
        File.WriteAllText(path, "old");
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write("new and half"u8);
            throw new IOException("No space left on device");
        }));
        Assert.Equal("No space left on device", e.Message);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["summary.json"], Directory.EnumerateFiles(temp.Path).Select(Path.GetFileName));

        Assert.Throws<IOException>(() => AtomicFile.Write(temp.Combine("new.png"), _ => throw new IOException("No space left on device")));
        Assert.False(File.Exists(temp.Combine("new.png")));
    }
}
