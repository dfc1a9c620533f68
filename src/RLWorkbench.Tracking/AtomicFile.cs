namespace RLWorkbench.Tracking;

/// <summary>
/// Writes that never leave half a file: whole files through a temporary sibling and a rename, small files overwritten in
/// the space they hold when the disk is full, and lines appended to a log whole or not at all.
/// </summary>
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

    /// <summary>
    /// Appends <paramref name="bytes"/> (one line or row) to an append-only log in one write. If the write fails (a full
    /// disk), the stream is cut back to where the line began, so the log never keeps half a line written by this process;
    /// the error names <paramref name="path"/>. The stream must be seekable and unbuffered, or a buffer would write the
    /// failed line again when disposed.
    /// </summary>
    public static void AppendWhole(Stream stream, ReadOnlySpan<byte> bytes, string path)
    {
        var before = stream.Length;
        try
        {
            stream.Write(bytes);
            stream.Flush();
        }
        catch (IOException e)
        {
            try
            {
                stream.SetLength(before);
                stream.Seek(before, SeekOrigin.Begin);
            }
            catch (IOException)
            {
                // The line stays torn; readers drop or repair a last line without its newline.
            }
            throw new IOException($"Could not write {path}: {e.Message}", e);
        }
    }
}
