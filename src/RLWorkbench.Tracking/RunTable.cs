using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace RLWorkbench.Tracking;

/// <summary>
/// A metrics table read back from its CSV: columns as doubles or strings. A last row cut short by a
/// crash (no newline after it) is left out and reported in <see cref="Problems"/>; a broken row in the
/// middle means the file is not what a run writes, and reading stops with a <see cref="RunFormatException"/>.
/// </summary>
public sealed class RunTable
{
    private readonly Dictionary<string, int> index;
    private readonly List<string[]> rows;

    private RunTable(string name, string path, IReadOnlyList<string> columns, List<string[]> rows, IReadOnlyList<string> problems)
    {
        Name = name;
        Path = path;
        Columns = columns;
        this.rows = rows;
        Problems = problems;
        index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < columns.Count; i++)
            index.TryAdd(columns[i], i);
    }

    public string Name { get; }

    public string Path { get; }

    public IReadOnlyList<string> Columns { get; }

    public int RowCount => rows.Count;

    public IReadOnlyList<string> Problems { get; }

    public bool Has(string column) => index.ContainsKey(column);

    public IReadOnlyList<string> Row(int row) => rows[row];

    /// <summary>A column as numbers: empty cells are NaN, true/false are 1/0.</summary>
    public double[] Numbers(string column)
    {
        var c = ColumnIndex(column);
        var values = new double[rows.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            var cell = rows[r][c];
            if (cell.Length == 0)
            {
                values[r] = double.NaN;
                continue;
            }
            values[r] = RunParameters.ParseCell(cell)
                ?? throw new RunFormatException($"{System.IO.Path.GetFileName(Path)} row {r + 1}, column '{column}': '{cell}' is not a number.");
        }
        return values;
    }

    public string[] Strings(string column)
    {
        var c = ColumnIndex(column);
        return rows.Select(r => r[c]).ToArray();
    }

    /// <summary>The step a row was logged at: its step, iteration or episode column, else its position.</summary>
    public double[] Steps()
    {
        foreach (var name in StepColumns)
        {
            if (Has(name))
                return Numbers(name);
        }
        return Enumerable.Range(0, rows.Count).Select(i => (double)i).ToArray();
    }

    public static readonly IReadOnlyList<string> StepColumns = ["step", "iteration", "episode"];

    private int ColumnIndex(string column) => index.TryGetValue(column, out var c)
        ? c
        : throw new RunFormatException($"{System.IO.Path.GetFileName(Path)} has no column '{column}' (columns: {string.Join(", ", Columns)}).");

    public static RunTable Read(string path)
    {
        var name = System.IO.Path.GetFileNameWithoutExtension(path);
        var file = System.IO.Path.GetFileName(path);
        var problems = new List<string>();
        var records = new List<(string[] Fields, int Line)>();
        string[]? header = null;
        try
        {
            using var reader = new StreamReader(path);
            using var parser = new CsvParser(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { BadDataFound = null });
            while (parser.Read())
            {
                var record = parser.Record ?? [];
                if (header is null)
                    header = record;
                else if (!(record.Length == 1 && record[0].Length == 0))
                    records.Add((record, parser.RawRow));
            }
        }
        catch (CsvHelperException e)
        {
            throw new RunFormatException($"{file} is not a readable CSV file: {e.Message.Split('\n')[0]}", e);
        }
        if (header is null)
            return new RunTable(name, path, [], [], [$"{file} is empty (no header)."]);

        var endsWithNewline = EndsWithNewline(path);
        var rows = new List<string[]>(records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            var (fields, line) = records[i];
            var last = i == records.Count - 1;
            if (last && !endsWithNewline)
            {
                problems.Add($"{file}: the last row (line {line}) was cut short, as a crashed run leaves it; it is left out.");
                break;
            }
            if (fields.Length != header.Length)
                throw new RunFormatException($"{file} line {line} has {fields.Length} fields where the header has {header.Length}; the file is not a table this workbench wrote.");
            rows.Add(fields);
        }
        return new RunTable(name, path, header, rows, problems);
    }

    private static bool EndsWithNewline(string path)
    {
        using var stream = File.OpenRead(path);
        if (stream.Length == 0)
            return true;
        stream.Seek(-1, SeekOrigin.End);
        return stream.ReadByte() == '\n';
    }
}
