using System.Text;
using System.Text.Json;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Tracking;

namespace RLWorkbench.Routing.Workflow;

/// <summary>
/// A run's artifacts/calls.jsonl: one JSON line per call, appended as calls finish. Each line goes to the file in one
/// unbuffered write; if that write fails (a full disk), the file is cut back to where the line began, so the log never
/// holds half a line written by this process. A line torn by a process that died mid-write is repaired on reading.
/// </summary>
public sealed class CallLog : IDisposable
{
    public const string FileName = "calls.jsonl";

    private static readonly JsonSerializerOptions Lines = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly Stream stream;
    private readonly string path;
    private readonly Lock gate = new();

    private CallLog(string path, Stream stream)
    {
        this.path = path;
        this.stream = stream;
        stream.Seek(0, SeekOrigin.End);
    }

    /// <summary>
    /// Opens the log to append. <paramref name="open"/> gives the stream (a seekable one, so a failed line can be cut
    /// back); by default an unbuffered file stream, because a buffer would write the failed line again when disposed.
    /// </summary>
    public static CallLog Open(string path, Func<string, Stream>? open = null) =>
        new(path, open?.Invoke(path) ?? new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, bufferSize: 0));

    public void Append(CallRecord record)
    {
        var line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(record, Lines) + "\n");
        lock (gate)
            AtomicFile.AppendWhole(stream, line, path);
    }

    /// <summary>
    /// The calls logged so far. A last line without its newline (a process that died mid-write) is completed when it
    /// is a whole record and cut off when it is not, and <paramref name="notice"/> says which; any other line that is not
    /// a record means the file is not a call log this workbench wrote, and the error names the file and the line.
    /// </summary>
    public static IReadOnlyList<CallRecord> Read(string path, Action<string> notice)
    {
        if (!File.Exists(path))
            return [];
        var text = File.ReadAllText(path);
        var lines = text.Split('\n');
        var records = new List<CallRecord>();
        // Split leaves an empty last element when the file ends with its newline; otherwise the last element is torn.
        var torn = lines[^1].Length > 0;
        for (var i = 0; i < lines.Length - 1; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]))
                continue;
            records.Add(Parse(lines[i]) ?? throw new RoutingInputException($"{path} line {i + 1} is not a call record; the file is not a call log this workbench wrote."));
        }
        if (torn)
        {
            var lineNumber = lines.Length;
            if (Parse(lines[^1]) is { } whole)
            {
                records.Add(whole);
                File.AppendAllText(path, "\n");
                notice($"{path}: the last line (line {lineNumber}) had no newline; it is a whole call record, so it is kept and the newline added.");
            }
            else
            {
                using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
                    file.SetLength(Encoding.UTF8.GetByteCount(text) - Encoding.UTF8.GetByteCount(lines[^1]));
                notice($"{path}: the last line (line {lineNumber}) was cut short by a write that did not finish; it is dropped.");
            }
        }
        return records;
    }

    private static CallRecord? Parse(string line)
    {
        try
        {
            return JsonSerializer.Deserialize<CallRecord>(line, Lines);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Dispose() => stream.Dispose();
}
