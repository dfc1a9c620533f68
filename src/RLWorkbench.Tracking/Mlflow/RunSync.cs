namespace RLWorkbench.Tracking.Mlflow;

/// <summary>What `runs sync` sent; <paramref name="Stale"/>: the run's process died, and MLflow records it as killed.</summary>
public sealed record SyncReport(string RunId, string MlflowRunId, string ExperimentId, int RowsSent, int ArtifactsUploaded, IReadOnlyList<string> Errors, bool Stale = false);

/// <summary>Pushes a finished local run to MLflow: whatever mlflow.json says has not reached the server yet.</summary>
public static class RunSync
{
    /// <summary>
    /// The command that pushes the run in <paramref name="runDirectory"/>, by its full path: an id is only found
    /// under the default root, and a run written with --out lives elsewhere.
    /// </summary>
    public static string Command(string runDirectory)
    {
        var path = Path.GetFullPath(runDirectory);
        var plain = path.All(c => char.IsAsciiLetterOrDigit(c) || "/._-+:,=@%".Contains(c));
        // Quoted for a POSIX shell when it holds anything the shell would read.
        return "rlw runs sync " + (plain ? path : "'" + path.Replace("'", "'\\''") + "'");
    }

    public static async Task<SyncReport> PushAsync(string runDirectory, MlflowClient client, CancellationToken cancellationToken = default)
    {
        var run = RunReader.Read(runDirectory);
        if (run.Info.Status == RunStatus.Running && !run.IsStale)
            throw new RunFormatException($"Run {run.Id} is still running; a running run mirrors itself, sync pushes runs that have ended.");
        var info = EndOf(run);
        var state = MlflowSyncState.Load(run.Directory, client.Options.DisplayUri);
        var publisher = new MlflowPublisher(client, run.Directory, state);
        var errors = new List<string>();
        try
        {
            await publisher.EnsureRunAsync(info, cancellationToken);
            try
            {
                // Tags of the local run may have changed since the MLflow run was created.
                var tags = MlflowPublisher.RunTags(info).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
                await publisher.SendParamsAndTagsAsync(run.Parameters, tags, cancellationToken);
                publisher.MarkParamsSent();
            }
            catch (MlflowException e) when (!e.IsTransient)
            {
                errors.Add(e.Message);
            }

            var rowsSent = 0;
            foreach (var name in run.TableNames)
            {
                var table = run.RequireTable(name);
                var from = state.RowsSent.GetValueOrDefault(name);
                if (from >= table.RowCount)
                    continue;
                var times = table.Has("time_s") ? table.Numbers("time_s") : null;
                var fallback = (run.Info.EndedUtc ?? run.Info.StartedUtc).ToUnixTimeMilliseconds();
                var rows = new List<(long, IReadOnlyList<MlflowMetric>)>();
                for (var r = (int)from; r < table.RowCount; r++)
                {
                    var cells = table.Row(r);
                    // Rows keep the time they were logged when the table records it, so MLflow's time axis is right.
                    var timestamp = times is not null && double.IsFinite(times[r])
                        ? run.Info.StartedUtc.ToUnixTimeMilliseconds() + (long)(times[r] * 1000)
                        : fallback;
                    rows.Add((r, MlflowPublisher.RowMetrics(name, table.Columns, c => RunParameters.ParseCell(cells[c]), r, timestamp)));
                }
                await publisher.SendRowsAsync(name, rows, cancellationToken);
                rowsSent += rows.Count;
            }

            var artifacts = publisher.PendingArtifacts();
            foreach (var artifact in artifacts)
                await publisher.UploadArtifactAsync(artifact, cancellationToken);
            await publisher.SendEndAsync(info, cancellationToken);
            if (errors.Count == 0)
                publisher.MarkComplete();
            else
                publisher.RecordError(errors[0]);
            return new SyncReport(run.Id, state.RunId!, state.ExperimentId!, rowsSent, artifacts.Count, errors, run.IsStale);
        }
        catch (MlflowException e)
        {
            publisher.RecordError(e.Message);
            throw;
        }
    }

    /// <summary>
    /// How the run ended, for MLflow: as status.json says, except a stale run (its process died without a word),
    /// which ended killed when it last wrote a file. status.json is left as it is: sync only reads the run.
    /// </summary>
    private static RunInfo EndOf(RunRecord run)
    {
        if (!run.IsStale)
            return run.Info;
        var lastWrite = System.IO.Directory.EnumerateFiles(run.Directory, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != RunLock.FileName && Path.GetFileName(f) != MlflowSyncState.FileName)
            .Select(File.GetLastWriteTimeUtc)
            .DefaultIfEmpty(run.Info.StartedUtc.UtcDateTime)
            .Max();
        return run.Info with { Status = RunStatus.Killed, EndedUtc = new DateTimeOffset(lastWrite, TimeSpan.Zero), Message = RunReader.StaleExplanation };
    }
}
