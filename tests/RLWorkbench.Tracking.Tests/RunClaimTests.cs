namespace RLWorkbench.Tracking.Tests;

/// <summary>One writer per run directory (run.lock), and a run whose writer is gone told apart from a live one.</summary>
public sealed class RunClaimTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private RunStore Store() => new(temp.Path) { Clock = new FixedClock(Start), Mirror = null };

    private static string InUse(string directory) =>
        $"{directory} is in use: another run is being written there (a live process holds its run.lock); wait for it to end or choose another directory.";

    [Fact]
    public async Task Two_runs_started_at_once_into_one_directory_leave_one_writer_and_one_clear_refusal()
    {
        var dir = temp.Combine("same");
        using var bothReady = new Barrier(2);
        var attempts = Enumerable.Range(0, 2).Select(i => Task.Run(() =>
        {
            bothReady.SignalAndWait();
            try
            {
                return (Run: Store().CreateIn(dir, "qlearn"), Error: (Exception?)null);
            }
            catch (IOException e)
            {
                return (Run: (Run?)null, Error: (Exception?)e);
            }
        })).ToArray();
        var results = await Task.WhenAll(attempts);

        var winner = Assert.Single(results.Select(r => r.Run).OfType<Run>());
        var refusal = Assert.Single(results.Select(r => r.Error).OfType<Exception>());
        Assert.IsType<RunInUseException>(refusal);
        Assert.Equal(InUse(dir), refusal.Message);
        winner.Table("iterations", ["iteration", "raw_reward"]).AppendRow(1, 0.5);
        winner.Finish(RunStatus.Finished);
        winner.Dispose();
        Assert.Equal(["iteration,raw_reward", "1,0.5"], File.ReadAllLines(Path.Combine(dir, "iterations.csv")));
    }

    [Fact]
    public void A_run_being_written_cannot_be_reopened_or_created_over_until_its_writer_lets_go()
    {
        var store = Store();
        var dir = temp.Combine("busy");
        var first = store.CreateIn(dir, "ppo");

        Assert.Equal(InUse(dir), Assert.Throws<RunInUseException>(() => store.Reopen(dir)).Message);
        Assert.Equal(InUse(dir), Assert.Throws<RunInUseException>(() => store.CreateIn(dir, "ppo")).Message);
        Assert.Equal(InUse(dir), Assert.Throws<RunInUseException>(() => store.ReopenAfterStep(dir, 0, "metrics")).Message);

        first.Finish(RunStatus.Killed);
        first.Dispose();
        using (var resumed = store.Reopen(dir))
            Assert.Equal(RunStatus.Killed, resumed.Status);
        var exists = Assert.Throws<IOException>(() => store.CreateIn(dir, "ppo"));
        Assert.IsNotType<RunInUseException>(exists);
        Assert.Equal($"{dir} already holds a run; choose another --out or resume it.", exists.Message);
    }

    [Fact]
    public void A_run_directory_that_is_a_file_or_lies_under_one_is_refused_by_name_and_nothing_is_created()
    {
        var store = Store();
        var file = temp.Combine("notes.txt");
        File.WriteAllText(file, "mine");

        Assert.Equal($"{file} is a file, not a run directory; choose another --out.", Assert.Throws<IOException>(() => store.CreateIn(file, "ppo")).Message);
        Assert.Equal($"{file} is a file, so {file}/run cannot be a run directory; choose another --out.",
            Assert.Throws<IOException>(() => store.CreateIn(Path.Combine(file, "run"), "ppo")).Message);
        Assert.Equal("mine", File.ReadAllText(file));
    }

    [Fact]
    public void Runs_created_in_the_same_second_under_one_name_each_get_their_own_directory()
    {
        var store = Store();
        using var first = store.Create("qlearn", name: "qlearn-ucb1");
        using var second = store.Create("qlearn", name: "qlearn-ucb1");
        using var plain = store.Create("qlearn");
        Assert.Equal(["qlearn-ucb1-20250301-120000", "qlearn-ucb1-20250301-120000-2", "qlearn-20250301-120000"], new[] { first.Id, second.Id, plain.Id });
        Assert.All(new[] { first, second, plain }, r => Assert.Equal("qlearn", r.Kind));
    }

    [Fact]
    public void Reopening_a_directory_that_is_not_a_run_creates_nothing_in_it()
    {
        var dir = temp.Combine("missing");
        Assert.Throws<FileNotFoundException>(() => Store().Reopen(dir));
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void A_run_whose_writer_is_gone_reads_as_stale_and_a_live_one_as_running()
    {
        var store = Store();
        var live = store.Create("ppo");
        // What a killed process leaves: status.json saying running, and a run.lock that nobody holds.
        var dead = temp.Combine("ppo-dead");
        Directory.CreateDirectory(dead);
        File.Copy(Path.Combine(live.Directory, RunStore.StatusFile), Path.Combine(dead, RunStore.StatusFile));
        File.WriteAllText(RunLock.PathIn(dead), "");

        Assert.False(RunReader.Read(live.Directory).IsStale);
        var record = RunReader.Read(dead);
        Assert.True(record.IsStale);
        Assert.Null(record.Duration(Start.AddHours(1)));
        Assert.Contains(RunReader.StaleExplanation, record.Problems);
        var listed = RunReader.List(temp.Path).ToDictionary(r => Path.GetFileName(r.Directory), r => r.Stale);
        Assert.Equal(new Dictionary<string, bool> { ["ppo-20250301-120000"] = false, ["ppo-dead"] = true }, listed);

        // The dead run's resume is not blocked by the lock file it left.
        using (var resumed = store.Reopen(dead))
            Assert.False(RunReader.Read(dead).IsStale);
        live.Finish(RunStatus.Finished);
        live.Dispose();
        Assert.False(RunReader.Read(live.Directory).IsStale);
    }

    [Fact]
    public void A_claim_is_let_go_when_the_run_is_disposed_even_if_it_was_never_finished()
    {
        var store = Store();
        var dir = temp.Combine("unfinished");
        using (store.CreateIn(dir, "env-run"))
            Assert.True(RunLock.IsHeld(dir));
        Assert.False(RunLock.IsHeld(dir));
        Assert.Equal(RunStatus.Failed, RunReader.ReadInfo(dir).Status);
    }
}
