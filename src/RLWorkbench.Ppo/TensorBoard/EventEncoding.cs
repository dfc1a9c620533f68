using System.Buffers.Binary;
using System.Text;

namespace RLWorkbench.Ppo.TensorBoard;

/// <summary>
/// The two kinds of tensorflow.Event this workbench writes, encoded as protocol buffers by hand (a
/// handful of fields does not justify a generated schema):
/// Event { double wall_time = 1; int64 step = 2; oneof { string file_version = 3; Summary summary = 5; } },
/// Summary { repeated Value value = 1; }, Value { string tag = 1; float simple_value = 2; }.
/// A scalar is written as simple_value, as PyTorch's SummaryWriter.add_scalar does.
/// </summary>
internal static class EventEncoding
{
    private const byte WallTimeField = (1 << 3) | 1;   // fixed64
    private const byte StepField = (2 << 3) | 0;       // varint
    private const byte FileVersionField = (3 << 3) | 2; // length-delimited
    private const byte SummaryField = (5 << 3) | 2;
    private const byte SummaryValueField = (1 << 3) | 2;
    private const byte TagField = (1 << 3) | 2;
    private const byte SimpleValueField = (2 << 3) | 5; // fixed32

    /// <summary>The first event of every file: which version of the event format follows.</summary>
    public static byte[] FileVersion(double wallTime, string version = "brain.Event:2")
    {
        var text = Encoding.UTF8.GetBytes(version);
        var output = new List<byte>(16 + text.Length);
        AddWallTime(output, wallTime);
        output.Add(FileVersionField);
        AddLengthDelimited(output, text);
        return [.. output];
    }

    public static byte[] Scalar(double wallTime, long step, string tag, float value)
    {
        var tagBytes = Encoding.UTF8.GetBytes(tag);
        var summaryValue = new List<byte>(tagBytes.Length + 8) { TagField };
        AddLengthDelimited(summaryValue, tagBytes);
        summaryValue.Add(SimpleValueField);
        Span<byte> fixed32 = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(fixed32, value);
        summaryValue.AddRange(fixed32);

        var summary = new List<byte>(summaryValue.Count + 4) { SummaryValueField };
        AddLengthDelimited(summary, summaryValue);

        var output = new List<byte>(summary.Count + 24);
        AddWallTime(output, wallTime);
        output.Add(StepField);
        AddVarint(output, (ulong)step);
        output.Add(SummaryField);
        AddLengthDelimited(output, summary);
        return [.. output];
    }

    private static void AddWallTime(List<byte> output, double wallTime)
    {
        output.Add(WallTimeField);
        Span<byte> fixed64 = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(fixed64, wallTime);
        output.AddRange(fixed64);
    }

    private static void AddLengthDelimited(List<byte> output, IReadOnlyCollection<byte> bytes)
    {
        AddVarint(output, (ulong)bytes.Count);
        output.AddRange(bytes);
    }

    private static void AddVarint(List<byte> output, ulong value)
    {
        while (value >= 0x80)
        {
            output.Add((byte)(value | 0x80));
            value >>= 7;
        }
        output.Add((byte)value);
    }
}
