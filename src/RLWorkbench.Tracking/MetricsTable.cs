using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace RLWorkbench.Tracking;

/// <summary>
/// One CSV table of a run with columns fixed when it is opened. Each row is flushed as it is written,
/// so a run that is killed keeps every row it logged; reopening an existing table appends to it.
/// </summary>
public sealed class MetricsTable : IDisposable
{
    private readonly StreamWriter writer;
    private readonly CsvWriter csv;
    private readonly Dictionary<string, int> columnIndex;
    private readonly object?[] row;
    private readonly object gate = new();
    private readonly Action<long, IReadOnlyList<object?>>? onRow;
    private long rowCount;

    internal MetricsTable(string path, IReadOnlyList<string> columns, Action<long, IReadOnlyList<object?>>? onRow = null)
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
        writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read), new System.Text.UTF8Encoding(false));
        csv = new CsvWriter(writer, new CsvConfiguration(CultureInfo.InvariantCulture) { NewLine = "\n" });
        if (!exists)
        {
            foreach (var c in columns)
                csv.WriteField(c);
            csv.NextRecord();
            csv.Flush();
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
        csv.NextRecord();
        csv.Flush();
        onRow?.Invoke(rowCount, (object?[])row.Clone());
        rowCount++;
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
            writer.Dispose();
        }
    }
}
