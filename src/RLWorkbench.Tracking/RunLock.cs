namespace RLWorkbench.Tracking;

/// <summary>
/// The claim one process holds on a run directory while it writes there: an exclusive OS lock on the
/// directory's run.lock (flock on Linux and macOS, a handle that shares nothing on Windows), held open
/// for the run's life. The OS drops it when the process ends, however it ends, so a killed run never
/// blocks its own resume, and a run whose status says running but whose lock nobody holds is known dead.
/// </summary>
public sealed class RunLock : IDisposable
{
    public const string FileName = "run.lock";

    // `runs list` takes the lock for an instant to see whether anyone holds it; a claim made at that
    // instant tries again rather than mistake the look for a run.
    private const int ClaimAttempts = 20;
    private static readonly TimeSpan ClaimPause = TimeSpan.FromMilliseconds(25);

    private readonly FileStream handle;

    private RunLock(FileStream handle) => this.handle = handle;

    public static string PathIn(string directory) => System.IO.Path.Combine(directory, FileName);

    /// <summary>
    /// Claims <paramref name="directory"/> (creating it when missing) for this process, or gives a
    /// <see cref="RunInUseException"/> when another process (or another run in this one) holds it.
    /// </summary>
    public static RunLock Claim(string directory) => TryClaim(directory)
        ?? throw new RunInUseException($"{Path.GetFullPath(directory)} is in use: another run is being written there (a live process holds its {FileName}); wait for it to end or choose another directory.");

    /// <summary>Like <see cref="Claim"/>, null when the directory is held.</summary>
    public static RunLock? TryClaim(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = PathIn(directory);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return new RunLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException e) when (IsHeldElsewhere(e))
            {
                if (attempt == ClaimAttempts)
                    return null;
                Thread.Sleep(ClaimPause);
            }
        }
    }

    /// <summary>
    /// Whether a live process holds the directory's lock; false when it has no lock file (a run from before
    /// locks, or a directory nobody claimed).
    /// </summary>
    public static bool IsHeld(string directory)
    {
        try
        {
            // A shared lock: two looks at once do not disturb each other, only an exclusive holder refuses it.
            using var look = new FileStream(PathIn(directory), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return false;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
        catch (IOException e) when (IsHeldElsewhere(e))
        {
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            // Cannot look, so cannot say the run is dead: it is shown as its status says.
            return true;
        }
    }

    /// <summary>
    /// A lock refused, as .NET reports it: a plain IOException whose code is EWOULDBLOCK from flock (11 on
    /// Linux, 35 on macOS) or Windows' sharing or lock violation. Anything else (no space, no permission) is a
    /// real failure and is not dressed up as "in use".
    /// </summary>
    private static bool IsHeldElsewhere(IOException e) =>
        e.GetType() == typeof(IOException)
        && (OperatingSystem.IsWindows() ? (e.HResult & 0xFFFF) is 32 or 33 : e.HResult is 11 or 35);

    public void Dispose() => handle.Dispose();
}
