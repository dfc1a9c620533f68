namespace RLWorkbench.Tracking;

/// <summary>Writes a file through a temporary sibling and a rename, so a crash never leaves half a file.</summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string contents)
    {
        Write(path, stream =>
        {
            // leaveOpen: Write flushes the stream to disk after this returns, so the writer must not close it.
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), bufferSize: -1, leaveOpen: true);
            writer.Write(contents);
        });
    }

    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp-" + Environment.ProcessId + "-" + Environment.CurrentManagedThreadId;
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }
}
