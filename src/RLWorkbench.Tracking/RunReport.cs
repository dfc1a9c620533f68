using System.Globalization;

namespace RLWorkbench.Tracking;

/// <summary>The text of `runs list` and `runs show`, kept here so it is tested without the command line.</summary>
public static class RunReport
{
    /// <summary>How many parameters `runs show` prints before pointing at config.json.</summary>
    public const int ParametersShown = 40;

    /// <summary>
    /// One line per run with what tells runs of a kind apart (algorithm, seed, final score), then what each final
    /// score is. A stale run (said running, but its process is gone) shows as stale, without a duration.
    /// </summary>
    public static void WriteList(TextWriter output, IReadOnlyList<RunListing> runs, DateTimeOffset now)
    {
        if (runs.Count == 0)
        {
            output.WriteLine("No runs.");
            return;
        }
        var rows = new List<string[]> { new[] { "id", "kind", "status", "start (UTC)", "duration", "algorithm", "seed", "final" } };
        foreach (var run in runs)
        {
            if (run.Info is not { } info)
            {
                rows.Add([Path.GetFileName(run.Directory), "?", "unreadable", "", "", "", "", run.Problem ?? ""]);
                continue;
            }
            var duration = info.EndedUtc is { } end ? end - info.StartedUtc : info.Status == RunStatus.Running && !run.Stale ? now - info.StartedUtc : (TimeSpan?)null;
            var headline = run.Headline;
            rows.Add([
                info.Id,
                info.Kind,
                StatusText(info.Status, run.Stale),
                info.StartedUtc.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                duration is { } d ? FormatDuration(d) : "",
                headline.Algorithm ?? "-",
                headline.Seed ?? "-",
                headline.Final is { } f ? f.ToString("G4", CultureInfo.InvariantCulture) : "-",
            ]);
        }
        WriteColumns(output, rows);

        // Every number defined where it is shown: what "final" is for each kind listed.
        var meanings = runs.Where(r => r.Info is not null && r.Headline.FinalName is not null)
            .Select(r => (r.Info!.Kind, Name: r.Headline.FinalName!))
            .Distinct()
            .OrderBy(m => m.Kind, StringComparer.Ordinal)
            .ThenBy(m => m.Name, StringComparer.Ordinal)
            .ToList();
        if (meanings.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("final (from each run's scores.json; env-run: summary.json; - until the run finishes):");
            foreach (var (kind, name) in meanings)
                output.WriteLine($"  {kind}: {name}");
        }
        if (runs.Any(r => r.Stale))
        {
            output.WriteLine();
            output.WriteLine($"stale: {RunReader.StaleExplanation}");
        }
    }

    /// <summary>Writes what can be read of the run; returns why any table could not be (empty when all could).</summary>
    public static IReadOnlyList<string> WriteShow(TextWriter output, RunRecord run, DateTimeOffset now)
    {
        var unreadable = new List<string>();
        var info = run.Info;
        output.WriteLine($"run       {info.Id}");
        output.WriteLine($"kind      {info.Kind}");
        output.WriteLine($"status    {StatusText(info.Status, run.IsStale)}{(info.Message is { Length: > 0 } m ? " - " + m : "")}");
        output.WriteLine($"started   {info.StartedUtc.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC");
        if (info.EndedUtc is { } ended)
            output.WriteLine($"ended     {ended.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC");
        if (run.Duration(now) is { } duration)
            output.WriteLine($"duration  {FormatDuration(duration)}{(info.Status == RunStatus.Running ? " so far" : "")}");
        output.WriteLine($"directory {run.Directory}");
        if (Mlflow.MlflowSyncState.TryRead(run.Directory) is { RunId: { } mlflowRun } state)
        {
            var progress = state.Complete ? "all sent" : $"not all sent ({state.LastError ?? "interrupted"}); {Mlflow.RunSync.Command(run.Directory)} pushes the rest";
            output.WriteLine($"mlflow    run {mlflowRun} at {state.TrackingUri}: {progress}");
        }
        if (info.Tags.Count > 0)
            output.WriteLine($"tags      {string.Join(", ", info.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"))}");
        if (info.Versions.Count > 0)
            output.WriteLine($"versions  {string.Join(", ", info.Versions.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key} {t.Value}"))}");

        output.WriteLine();
        output.WriteLine($"Configuration ({run.Parameters.Count} parameters):");
        foreach (var (key, value) in run.Parameters.Take(ParametersShown))
            output.WriteLine($"  {key} = {value}");
        if (run.Parameters.Count > ParametersShown)
            output.WriteLine($"  ... and {run.Parameters.Count - ParametersShown} more in config.json");

        WriteJsonFile(output, run, "scores.json", unreadable);
        WriteJsonFile(output, run, "summary.json", unreadable);

        foreach (var name in run.TableNames)
        {
            RunTable table;
            try
            {
                table = run.Table(name)!;
            }
            catch (RunFormatException e)
            {
                output.WriteLine();
                output.WriteLine($"{name}.csv: unreadable - {e.Message}");
                unreadable.Add(e.Message);
                continue;
            }
            output.WriteLine();
            if (table.RowCount == 0)
            {
                output.WriteLine($"{name}.csv: no rows yet");
                continue;
            }
            output.WriteLine($"{name}.csv: {table.RowCount} rows; last row:");
            var last = table.Row(table.RowCount - 1);
            var rows = new List<string[]>();
            for (var c = 0; c < table.Columns.Count; c++)
                rows.Add(["  " + table.Columns[c], FormatCell(last[c])]);
            WriteColumns(output, rows);
        }

        output.WriteLine();
        output.WriteLine($"Artifacts ({run.Artifacts.Count}):");
        foreach (var artifact in run.Artifacts)
        {
            var size = new FileInfo(Path.Combine(run.ArtifactsDirectory, artifact)).Length;
            output.WriteLine($"  {artifact} ({FormatSize(size)})");
        }

        if (run.Problems.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("Problems:");
            foreach (var p in run.Problems)
                output.WriteLine($"  {p}");
        }
        return unreadable;
    }

    /// <summary>How many values of summary.json or scores.json `runs show` prints before pointing at the file.</summary>
    public const int JsonValuesShown = 40;

    /// <summary>A JSON file of the run (scores.json, summary.json) as flat key = value lines, like the parameters.</summary>
    private static void WriteJsonFile(TextWriter output, RunRecord run, string file, List<string> unreadable)
    {
        System.Text.Json.Nodes.JsonNode? node;
        try
        {
            node = run.ReadJson(file);
        }
        catch (RunFormatException e)
        {
            output.WriteLine();
            output.WriteLine($"{file}: unreadable - {e.Message}");
            unreadable.Add(e.Message);
            return;
        }
        if (node is null)
            return;
        var values = RunParameters.Flatten(node);
        output.WriteLine();
        output.WriteLine($"{file} ({values.Count} values):");
        var rows = values.Take(JsonValuesShown).Select(v => new[] { "  " + v.Key, Shorten(FormatCell(v.Value)) }).ToList();
        if (rows.Count > 0)
            WriteColumns(output, rows);
        if (values.Count > JsonValuesShown)
            output.WriteLine($"  ... and {values.Count - JsonValuesShown} more in {file}");
    }

    /// <summary>A whole array (qlearn's routing table) fits no line; its start says what it is, the file has the rest.</summary>
    private static string Shorten(string value) => value.Length <= 100 ? value : value[..97] + "...";

    public static string StatusText(RunStatus status, bool stale = false) => stale ? "stale" : status.ToString().ToLowerInvariant();

    public static string FormatDuration(TimeSpan d)
    {
        if (d < TimeSpan.Zero)
            d = TimeSpan.Zero;
        if (d.TotalHours >= 1)
            return $"{(int)d.TotalHours}h {d.Minutes:00}m {d.Seconds:00}s";
        if (d.TotalMinutes >= 1)
            return $"{d.Minutes}m {d.Seconds:00}s";
        return $"{d.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)}s";
    }

    public static string FormatSize(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{(bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture)} KB",
        _ => $"{(bytes / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture)} MB",
    };

    private static string FormatCell(string cell)
    {
        if (cell.Length == 0)
            return "-";
        if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && cell.Length > 10)
            return d.ToString("G6", CultureInfo.InvariantCulture);
        return cell;
    }

    private static void WriteColumns(TextWriter output, List<string[]> rows)
    {
        var widths = new int[rows.Max(r => r.Length)];
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length; i++)
                widths[i] = Math.Max(widths[i], row[i].Length);
        }
        foreach (var row in rows)
            output.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
    }
}
