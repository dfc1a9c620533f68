using System.Buffers.Binary;
using System.Numerics;

namespace RLWorkbench.Ppo.TensorBoard;

/// <summary>
/// A TensorFlow event file: records framed as TFRecords (little-endian uint64 length, masked CRC32C
/// of the length, the bytes, masked CRC32C of the bytes), the format `tensorboard --logdir` reads.
/// The name follows PyTorch's SummaryWriter (events.out.tfevents.&lt;unix seconds&gt;.&lt;host&gt;.&lt;pid&gt;.&lt;n&gt;),
/// so files of a resumed run sort after the earlier ones.
/// </summary>
internal sealed class EventFile : IDisposable
{
    private readonly FileStream stream;
    private readonly byte[] header = new byte[12];
    private readonly byte[] footer = new byte[4];

    public EventFile(string directory, DateTimeOffset now)
    {
        Directory.CreateDirectory(directory);
        var stem = $"events.out.tfevents.{now.ToUnixTimeSeconds()}.{Environment.MachineName}.{Environment.ProcessId}";
        // A second log in the same directory and second gets the next number rather than appending to the first.
        for (var n = 0; ; n++)
        {
            var path = System.IO.Path.Combine(directory, $"{stem}.{n}");
            try
            {
                stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
                FilePath = path;
                return;
            }
            catch (IOException) when (File.Exists(path))
            {
            }
        }
    }

    public string FilePath { get; }

    public void Write(ReadOnlySpan<byte> record)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)record.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), MaskedCrc32C(header.AsSpan(0, 8)));
        BinaryPrimitives.WriteUInt32LittleEndian(footer, MaskedCrc32C(record));
        stream.Write(header);
        stream.Write(record);
        stream.Write(footer);
    }

    /// <summary>Hands what was written to the operating system, so a live `tensorboard` sees it.</summary>
    public void Flush() => stream.Flush();

    public void Dispose() => stream.Dispose();

    /// <summary>
    /// CRC-32C (Castagnoli) rotated right by 15 bits plus a constant: TFRecord masks its checksums so that
    /// a CRC over data that itself holds CRCs stays well distributed.
    /// </summary>
    public static uint MaskedCrc32C(ReadOnlySpan<byte> data)
    {
        var crc = uint.MaxValue;
        foreach (var b in data)
            crc = BitOperations.Crc32C(crc, b);
        crc = ~crc;
        return BitOperations.RotateRight(crc, 15) + 0xa282ead8u;
    }
}
