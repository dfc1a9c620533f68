namespace RLWorkbench.TestSupport;

/// <summary>A file stream that takes <paramref name="capacity"/> more bytes and then fails the way a full disk does: part of the write lands, then IOException.</summary>
internal sealed class FullDiskStream(FileStream inner, long capacity) : Stream
{
    private long left = capacity;

    public static Func<string, Stream> Opener(long capacity) =>
        path => new FullDiskStream(new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, bufferSize: 0), capacity);

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        var fits = (int)Math.Min(buffer.Length, left);
        inner.Write(buffer[..fits]);
        left -= fits;
        if (fits < buffer.Length)
            throw new IOException("No space left on device");
    }

    public override void SetLength(long value) => inner.SetLength(value);

    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

    public override void Flush() => inner.Flush();

    public override bool CanRead => false;

    public override bool CanSeek => true;

    public override bool CanWrite => true;

    public override long Length => inner.Length;

    public override long Position { get => inner.Position; set => inner.Position = value; }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            inner.Dispose();
        base.Dispose(disposing);
    }
}
