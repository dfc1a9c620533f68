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

    /// <summary>
    /// The last resort for a small file on a full disk, where the temporary file of <see cref="WriteAllText"/> gets no
    /// space: the file already holds its block, so its bytes are overwritten where they are. Returns the failure, or null
    /// when it worked.
    /// </summary>
    public static IOException? OverwriteWithinItsSpace(string path, string contents)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(contents);
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read, bufferSize: 0);
            // Only within the space the file already has (one block): anything longer could fail half-written.
            if (bytes.Length > Math.Max(file.Length, 4096))
                return new IOException($"{path} would grow past the space it has.");
            file.Write(bytes);
            file.SetLength(bytes.Length);
            file.Flush(flushToDisk: true);
            return null;
        }
        catch (IOException e)
        {
            return e;
        }
    }
}
