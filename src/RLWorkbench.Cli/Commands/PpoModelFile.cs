using RLWorkbench.Ppo;

namespace RLWorkbench.Cli.Commands;

/// <summary>Reading a saved PPO model from the command line, shared by eval and ppo --resume.</summary>
internal static class PpoModelFile
{
    /// <summary>Loads a checkpoint; a missing or unreadable file is a usage error with one sentence.</summary>
    public static PpoCheckpoint Load(string path, string missingMessage)
    {
        if (!File.Exists(path))
            throw new UsageException(missingMessage);
        try
        {
            return PpoCheckpoint.Load(path);
        }
        catch (InvalidDataException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>The nearest directory at or above the file's that holds <paramref name="marker"/>, or null.</summary>
    public static string? FindAbove(string path, string marker)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        while (dir is not null && !File.Exists(Path.Combine(dir, marker)))
            dir = Path.GetDirectoryName(dir);
        return dir;
    }
}
