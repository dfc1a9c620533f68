using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace RLWorkbench.Tracking.Tests;

/// <summary>
/// A loopback HTTP server that answers like an MLflow tracking server (REST API 2.0) for the calls the
/// workbench makes: experiments by name and create (RESOURCE_ALREADY_EXISTS on a duplicate), runs create,
/// log-batch with MLflow's limits and its rule that a param keeps its first value, runs update, and the
/// artifact proxy. Faults are injected per request; every request is recorded for the tests to inspect.
/// </summary>
internal sealed class FakeMlflowServer : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly object gate = new();
    private readonly Task loop;
    private readonly Queue<Func<HttpListenerContext, Task<bool>>> faults = new();
    private int nextExperiment = 1;
    private int nextRun = 1;

    public FakeMlflowServer()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        BaseUri = new Uri($"http://127.0.0.1:{port}/");
        listener.Prefixes.Add(BaseUri.ToString());
        listener.Start();
        Experiments["Default"] = "0";
        loop = Task.Run(AcceptAsync);
    }

    public Uri BaseUri { get; }

    public record Request(string Method, string Path, string? Query, string? Authorization, string Body, byte[] Bytes, string? ContentType);

    public List<Request> Requests { get; } = [];

    public Dictionary<string, string> Experiments { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, FakeRun> Runs { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, byte[]> Artifacts { get; } = new(StringComparer.Ordinal);

    public int MaxMetricsPerBatch { get; set; } = 1000;

    /// <summary>Another client creates this experiment between our get-by-name and our create.</summary>
    public string? CreateConcurrentlyOnFirstLookup { get; set; }

    /// <summary>When set, every request is answered with 503 (a server that is down behind a proxy).</summary>
    public bool Down { get; set; }

    public sealed class FakeRun
    {
        public required string ExperimentId { get; init; }

        public required string Name { get; init; }

        public string Status { get; set; } = "RUNNING";

        public long StartTime { get; init; }

        public long? EndTime { get; set; }

        public List<(string Key, double Value, long Timestamp, long Step)> Metrics { get; } = [];

        public Dictionary<string, string> Params { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);
    }

    public IEnumerable<Request> LogBatches => Snapshot().Where(r => r.Path.EndsWith("/runs/log-batch", StringComparison.Ordinal));

    public List<Request> Snapshot()
    {
        lock (gate)
            return [.. Requests];
    }

    public FakeRun SingleRun()
    {
        lock (gate)
            return Runs.Values.Single();
    }

    /// <summary>The next <paramref name="count"/> requests get this status with an MLflow error body.</summary>
    public void FailNext(int count, int status, string errorCode = "INTERNAL_ERROR")
    {
        lock (gate)
        {
            for (var i = 0; i < count; i++)
                faults.Enqueue(async c =>
                {
                    await WriteAsync(c, status, new JsonObject { ["error_code"] = errorCode, ["message"] = "injected failure" });
                    return true;
                });
        }
    }

    /// <summary>The next request is answered only after <paramref name="wait"/> (a client timeout shorter than that sees a hang).</summary>
    public void StallNext(TimeSpan wait)
    {
        lock (gate)
        {
            faults.Enqueue(async c =>
            {
                await Task.Delay(wait);
                try
                {
                    await WriteAsync(c, 503, new JsonObject { ["error_code"] = "TEMPORARILY_UNAVAILABLE", ["message"] = "too late" });
                }
                catch (HttpListenerException)
                {
                }
                catch (ObjectDisposedException)
                {
                }
                return true;
            });
        }
    }

    private async Task AcceptAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext c)
    {
        try
        {
            using var buffer = new MemoryStream();
            await c.Request.InputStream.CopyToAsync(buffer);
            var bytes = buffer.ToArray();
            var request = new Request(c.Request.HttpMethod, c.Request.Url!.AbsolutePath, c.Request.Url.Query, c.Request.Headers["Authorization"], Encoding.UTF8.GetString(bytes), bytes, c.Request.ContentType);
            Func<HttpListenerContext, Task<bool>>? fault = null;
            lock (gate)
            {
                Requests.Add(request);
                if (faults.Count > 0)
                    fault = faults.Dequeue();
            }
            if (Down)
            {
                await WriteAsync(c, 503, new JsonObject { ["error_code"] = "TEMPORARILY_UNAVAILABLE", ["message"] = "down" });
                return;
            }
            if (fault is not null && await fault(c))
                return;
            var (status, body) = Answer(request);
            await WriteAsync(c, status, body);
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException)
        {
        }
    }

    private static async Task WriteAsync(HttpListenerContext c, int status, JsonObject body)
    {
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        c.Response.StatusCode = status;
        c.Response.ContentType = "application/json";
        await c.Response.OutputStream.WriteAsync(bytes);
        c.Response.Close();
    }

    private static (int, JsonObject) Error(int status, string code, string message) => (status, new JsonObject { ["error_code"] = code, ["message"] = message });

    private (int, JsonObject) Answer(Request r)
    {
        const string api = "/api/2.0/mlflow/";
        const string artifacts = "/api/2.0/mlflow-artifacts/artifacts/";
        if (r.Method == "PUT" && r.Path.StartsWith(artifacts, StringComparison.Ordinal))
        {
            lock (gate)
                Artifacts[Uri.UnescapeDataString(r.Path[artifacts.Length..])] = r.Bytes;
            return (200, new JsonObject());
        }
        if (!r.Path.StartsWith(api, StringComparison.Ordinal))
            return Error(404, "ENDPOINT_NOT_FOUND", "No API endpoint " + r.Path);
        var endpoint = r.Path[api.Length..];
        if (r.Method == "POST" && r.ContentType?.StartsWith("application/json", StringComparison.Ordinal) != true)
            return Error(400, "BAD_REQUEST", "MLflow REST API requires content type application/json");
        var json = r.Body.Length > 0 ? JsonNode.Parse(r.Body)!.AsObject() : new JsonObject();
        lock (gate)
        {
            switch (r.Method, endpoint)
            {
                case ("GET", "experiments/get-by-name"):
                {
                    var name = Uri.UnescapeDataString((r.Query ?? "").TrimStart('?').Split('&').Select(p => p.Split('=', 2)).First(p => p[0] == "experiment_name")[1]);
                    if (CreateConcurrentlyOnFirstLookup == name)
                    {
                        CreateConcurrentlyOnFirstLookup = null;
                        Experiments[name] = (nextExperiment++).ToString();
                        return Error(404, "RESOURCE_DOES_NOT_EXIST", $"Could not find experiment with name '{name}'");
                    }
                    return Experiments.TryGetValue(name, out var id)
                        ? (200, new JsonObject { ["experiment"] = new JsonObject { ["experiment_id"] = id, ["name"] = name, ["lifecycle_stage"] = "active" } })
                        : Error(404, "RESOURCE_DOES_NOT_EXIST", $"Could not find experiment with name '{name}'");
                }
                case ("POST", "experiments/create"):
                {
                    var name = (string?)json["name"];
                    if (string.IsNullOrEmpty(name))
                        return Error(400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'name'.");
                    if (Experiments.ContainsKey(name))
                        return Error(400, "RESOURCE_ALREADY_EXISTS", $"Experiment '{name}' already exists.");
                    var id = (nextExperiment++).ToString();
                    Experiments[name] = id;
                    return (200, new JsonObject { ["experiment_id"] = id });
                }
                case ("POST", "runs/create"):
                {
                    var experimentId = (string?)json["experiment_id"] ?? "0";
                    if (!Experiments.ContainsValue(experimentId))
                        return Error(404, "RESOURCE_DOES_NOT_EXIST", $"No Experiment with id={experimentId} exists");
                    var runId = "run" + nextRun++;
                    var run = new FakeRun { ExperimentId = experimentId, Name = (string?)json["run_name"] ?? "", StartTime = (long?)json["start_time"] ?? 0 };
                    foreach (var tag in json["tags"]?.AsArray() ?? [])
                        run.Tags[(string)tag!["key"]!] = (string)tag["value"]!;
                    Runs[runId] = run;
                    return (200, new JsonObject
                    {
                        ["run"] = new JsonObject
                        {
                            ["info"] = new JsonObject
                            {
                                ["run_id"] = runId,
                                ["run_uuid"] = runId,
                                ["experiment_id"] = experimentId,
                                ["run_name"] = run.Name,
                                ["status"] = "RUNNING",
                                ["artifact_uri"] = $"mlflow-artifacts:/{experimentId}/{runId}/artifacts",
                            },
                        },
                    });
                }
                case ("POST", "runs/log-batch"):
                {
                    var runId = (string?)json["run_id"] ?? "";
                    if (!Runs.TryGetValue(runId, out var run))
                        return Error(404, "RESOURCE_DOES_NOT_EXIST", $"Run '{runId}' not found");
                    var metrics = json["metrics"]?.AsArray() ?? [];
                    var parameters = json["params"]?.AsArray() ?? [];
                    var tags = json["tags"]?.AsArray() ?? [];
                    // The tracking server's own checks and messages (mlflow/utils/validation.py).
                    if (metrics.Count > MaxMetricsPerBatch)
                        return Error(400, "INVALID_PARAMETER_VALUE", $"A batch logging request can contain at most {MaxMetricsPerBatch} metrics. Got {metrics.Count} metrics. Please split up metrics across multiple requests and try again.");
                    if (parameters.Count > 100)
                        return Error(400, "INVALID_PARAMETER_VALUE", $"A batch logging request can contain at most 100 params. Got {parameters.Count} params. Please split up params across multiple requests and try again.");
                    if (tags.Count > 100)
                        return Error(400, "INVALID_PARAMETER_VALUE", $"A batch logging request can contain at most 100 tags. Got {tags.Count} tags. Please split up tags across multiple requests and try again.");
                    var total = metrics.Count + parameters.Count + tags.Count;
                    if (total > 1000)
                        return Error(400, "INVALID_PARAMETER_VALUE", $"A batch logging request can contain at most 1000 metrics, params, and tags in total. Got {total} total. Please split up across multiple requests and try again.");
                    foreach (var p in parameters)
                    {
                        var key = (string)p!["key"]!;
                        var value = (string)p["value"]!;
                        if (run.Params.TryGetValue(key, out var old) && old != value)
                            return Error(400, "INVALID_PARAMETER_VALUE", $"Changing param values is not allowed. Param with key='{key}' was already logged with value='{old}' for run ID='{runId}'. Attempted logging new value '{value}'.");
                        run.Params[key] = value;
                    }
                    foreach (var t in tags)
                        run.Tags[(string)t!["key"]!] = (string)t["value"]!;
                    foreach (var m in metrics)
                    {
                        var v = m!["value"]!;
                        var value = v.GetValueKind() == System.Text.Json.JsonValueKind.String ? double.Parse((string)v!, System.Globalization.CultureInfo.InvariantCulture) : (double)v;
                        run.Metrics.Add(((string)m["key"]!, value, (long)m["timestamp"]!, (long?)m["step"] ?? 0));
                    }
                    return (200, new JsonObject());
                }
                case ("POST", "runs/update"):
                {
                    var runId = (string?)json["run_id"] ?? "";
                    if (!Runs.TryGetValue(runId, out var run))
                        return Error(404, "RESOURCE_DOES_NOT_EXIST", $"Run '{runId}' not found");
                    run.Status = (string?)json["status"] ?? run.Status;
                    run.EndTime = (long?)json["end_time"] ?? run.EndTime;
                    return (200, new JsonObject { ["run_info"] = new JsonObject { ["run_id"] = runId, ["status"] = run.Status } });
                }
                default:
                    return Error(404, "ENDPOINT_NOT_FOUND", $"No endpoint {r.Method} {endpoint}");
            }
        }
    }

    public void Dispose()
    {
        // Close alone: on Unix, Stop then Close gives the port back and then binds it again for a moment (dotnet's managed
        // HttpListener removes the listener twice), so a test elsewhere that took the port in between failed this one.
        listener.Close();
        try
        {
            loop.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }
    }
}
