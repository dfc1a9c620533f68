using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace RLWorkbench.Tracking;

/// <summary>
/// One CSV table of a run with columns fixed when it is opened. Each row reaches the file in one unbuffered write,
/// so a run that is killed keeps every row it logged, and a write that fails (a full disk) is cut back to where the
/// row began instead of leaving half a row; reopening an existing table appends to it.
/// </summary>
public sealed class MetricsTable : IDisposable
{
    private static readonly System.Text.UTF8Encoding Utf8 = new(false);
    private readonly Stream file;
    private readonly StringWriter text = new(CultureInfo.InvariantCulture);
    private readonly CsvWriter csv;
    private readonly Dictionary<string, int> columnIndex;
    private readonly object?[] row;
    private readonly object gate = new();
    private readonly Action<long, IReadOnlyList<object?>>? onRow;
    private long rowCount;

    /// <param name="open">Gives the stream to append to (tests pass one that fails like a full disk); by default the file, unbuffered.</param>
    internal MetricsTable(string path, IReadOnlyList<string> columns, Action<long, IReadOnlyList<object?>>? onRow = null, Func<string, Stream>? open = null)
    {
        this.onRow = onRow;
        Path = path;
        Columns = columns;
        columnIndex = columns.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
        if (columnIndex.Count != columns.Count)
            throw new ArgumentException("A metrics table cannot have the same column twice.", nameof(columns));
        row = new object?[columns.Count];
        var exists = File.Exists(path) && new FileInfo(path).Length > 0;
        if (exists)
        {
            var header = File.ReadLines(path).First();
            if (header != string.Join(',', columns))
                throw new InvalidOperationException($"{path} has columns '{header}', not the '{string.Join(',', columns)}' this run writes; it belongs to another kind of run.");
            // Row numbers continue across a resume, so a mirror knows which rows it has already sent.
            if (onRow is not null)
                rowCount = File.ReadLines(path).Skip(1).LongCount(l => l.Length > 0);
        }
        // Unbuffered: a buffer would write a failed row again when it is disposed.
        file = open?.Invoke(path) ?? new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0);
        file.Seek(0, SeekOrigin.End);
        csv = new CsvWriter(text, new CsvConfiguration(CultureInfo.InvariantCulture) { NewLine = "\n" });
        if (!exists)
        {
            foreach (var c in columns)
                csv.WriteField(c);
            WriteRecord();
        }
    }

    public string Path { get; }

    public IReadOnlyList<string> Columns { get; }

    /// <summary>Appends a row; columns not named are left empty.</summary>
    public void Append(IEnumerable<KeyValuePair<string, object?>> values)
    {
        lock (gate)
        {
            Array.Clear(row);
            foreach (var (key, value) in values)
            {
                if (!columnIndex.TryGetValue(key, out var i))
                    throw new ArgumentException($"Column '{key}' is not in {System.IO.Path.GetFileName(Path)} (columns: {string.Join(", ", Columns)}).", nameof(values));
                row[i] = value;
            }
            WriteRow();
        }
    }

    /// <summary>Appends a row given in column order.</summary>
    public void AppendRow(params object?[] values)
    {
        if (values.Length != Columns.Count)
            throw new ArgumentException($"{System.IO.Path.GetFileName(Path)} has {Columns.Count} columns, got {values.Length} values.", nameof(values));
        lock (gate)
        {
            values.CopyTo(row, 0);
            WriteRow();
        }
    }

    private void WriteRow()
    {
        foreach (var value in row)
            csv.WriteField(Format(value));
        WriteRecord();
        onRow?.Invoke(rowCount, (object?[])row.Clone());
        rowCount++;
    }

    /// <summary>Ends the record in the text buffer and appends it to the file whole, or not at all.</summary>
    private void WriteRecord()
    {
        csv.NextRecord();
        csv.Flush();
        var bytes = Utf8.GetBytes(text.ToString());
        text.GetStringBuilder().Clear();
        AtomicFile.AppendWhole(file, bytes, Path);
    }

    private static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    public void Dispose()
    {
        lock (gate)
        {
            csv.Dispose();
            file.Dispose();
        }
    }
}
