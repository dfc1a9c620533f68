using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace RLWorkbench.Tracking.Mlflow;

/// <summary>
/// The parts of MLflow's REST API 2.0 a run needs, on HttpClient: experiments by name, runs, batched
/// logging within the server's limits, run updates and artifact upload through the server's proxy.
/// Transient failures are retried with the configured delays; the rest become <see cref="MlflowException"/>
/// with MLflow's error_code and message.
/// </summary>
public sealed class MlflowClient : IDisposable
{
    private static readonly JsonSerializerOptions BodyJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Protobuf's JSON mapping, which MLflow parses with, spells non-finite doubles "NaN", "Infinity", "-Infinity".
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private readonly HttpClient http;
    private readonly bool ownsHttp;
    private readonly Func<TimeSpan, CancellationToken, Task> delay;

    /// <param name="handler">The HTTP stack to send through; tests give their own.</param>
    /// <param name="delay">How to wait between retries; tests make it instant.</param>
    public MlflowClient(MlflowOptions options, HttpMessageHandler? handler = null, Func<TimeSpan, CancellationToken, Task>? delay = null)
    {
        Options = options;
        http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        ownsHttp = true;
        // Each request gets its own timeout below, so a timeout is told apart from the caller cancelling.
        http.Timeout = Timeout.InfiniteTimeSpan;
        this.delay = delay ?? Task.Delay;
    }

    public MlflowOptions Options { get; }

    public LogBatchLimits Limits { get; init; } = LogBatchLimits.Mlflow;

    /// <summary>The experiment's id, or null when there is none by that name (RESOURCE_DOES_NOT_EXIST).</summary>
    public async Task<string?> GetExperimentIdByNameAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            var body = await SendAsync(HttpMethod.Get, "experiments/get-by-name?experiment_name=" + Uri.EscapeDataString(name), null, "experiments/get-by-name", cancellationToken);
            return body?["experiment"]?["experiment_id"]?.GetValue<string>()
                ?? throw new MlflowException("MLflow experiments/get-by-name answered without an experiment id.", null, null, false);
        }
        catch (MlflowException e) when (e.ErrorCode == "RESOURCE_DOES_NOT_EXIST")
        {
            return null;
        }
    }

    public async Task<string> CreateExperimentAsync(string name, CancellationToken cancellationToken = default)
    {
        var body = await SendAsync(HttpMethod.Post, "experiments/create", new JsonObject { ["name"] = name }, "experiments/create", cancellationToken);
        return body?["experiment_id"]?.GetValue<string>()
            ?? throw new MlflowException("MLflow experiments/create answered without an experiment id.", null, null, false);
    }

    /// <summary>
    /// Finds the experiment or creates it. Two runs starting together may both find none and both
    /// create; the loser gets RESOURCE_ALREADY_EXISTS and looks it up again.
    /// </summary>
    public async Task<string> GetOrCreateExperimentAsync(string name, CancellationToken cancellationToken = default)
    {
        if (await GetExperimentIdByNameAsync(name, cancellationToken) is { } existing)
            return existing;
        try
        {
            return await CreateExperimentAsync(name, cancellationToken);
        }
        catch (MlflowException e) when (e.ErrorCode is "RESOURCE_ALREADY_EXISTS" or "ALREADY_EXISTS")
        {
            return await GetExperimentIdByNameAsync(name, cancellationToken)
                ?? throw new MlflowException($"MLflow says experiment '{name}' exists but cannot find it by name (it may be deleted; restore or rename it).", e.ErrorCode, e.StatusCode, false, e);
        }
    }

    public async Task<MlflowRun> CreateRunAsync(string experimentId, string runName, DateTimeOffset startTime, IReadOnlyList<MlflowTag> tags, CancellationToken cancellationToken = default)
    {
        var request = new JsonObject
        {
            ["experiment_id"] = experimentId,
            ["run_name"] = runName,
            ["start_time"] = startTime.ToUnixTimeMilliseconds(),
            ["tags"] = JsonSerializer.SerializeToNode(tags, BodyJson),
        };
        var body = await SendAsync(HttpMethod.Post, "runs/create", request, "runs/create", cancellationToken);
        var info = body?["run"]?["info"];
        var runId = info?["run_id"]?.GetValue<string>() ?? info?["run_uuid"]?.GetValue<string>()
            ?? throw new MlflowException("MLflow runs/create answered without a run id.", null, null, false);
        return new MlflowRun(runId, info?["experiment_id"]?.GetValue<string>() ?? experimentId, info?["artifact_uri"]?.GetValue<string>());
    }

    /// <summary>Logs any amount of data through as many runs/log-batch requests as the limits need.</summary>
    public async Task LogBatchAsync(string runId, IReadOnlyList<MlflowMetric> metrics, IReadOnlyList<MlflowParam> parameters, IReadOnlyList<MlflowTag> tags, CancellationToken cancellationToken = default)
    {
        foreach (var batch in LogBatch.Split(metrics, parameters, tags, Limits))
            await SendBatchAsync(runId, batch, cancellationToken);
    }

    /// <summary>Sends one request's worth; the caller keeps it within <see cref="Limits"/>.</summary>
    public async Task SendBatchAsync(string runId, LogBatch batch, CancellationToken cancellationToken = default)
    {
        if (batch.Count == 0)
            return;
        var request = new JsonObject
        {
            ["run_id"] = runId,
            ["metrics"] = JsonSerializer.SerializeToNode(batch.Metrics, BodyJson),
            ["params"] = JsonSerializer.SerializeToNode(batch.Params, BodyJson),
            ["tags"] = JsonSerializer.SerializeToNode(batch.Tags, BodyJson),
        };
        await SendAsync(HttpMethod.Post, "runs/log-batch", request, "runs/log-batch", cancellationToken);
    }

    public async Task UpdateRunAsync(string runId, string status, DateTimeOffset? endTime, CancellationToken cancellationToken = default)
    {
        var request = new JsonObject { ["run_id"] = runId, ["status"] = status };
        if (endTime is { } end)
            request["end_time"] = end.ToUnixTimeMilliseconds();
        await SendAsync(HttpMethod.Post, "runs/update", request, "runs/update", cancellationToken);
    }

    /// <summary>
    /// Uploads a file through the server's artifact proxy (mlflow server --serve-artifacts, the default
    /// since MLflow 2.0), to the run's artifact root as the server reported it.
    /// </summary>
    public async Task UploadArtifactAsync(MlflowRun run, string relativePath, string filePath, CancellationToken cancellationToken = default)
    {
        var root = ArtifactProxyRoot(run);
        var segments = (root + "/" + relativePath.Replace('\\', '/')).Split('/', StringSplitOptions.RemoveEmptyEntries);
        var url = BaseUrl() + "api/2.0/mlflow-artifacts/artifacts/" + string.Join('/', segments.Select(Uri.EscapeDataString));
        await SendWithRetriesAsync(
            () =>
            {
                var content = new ByteArrayContent(File.ReadAllBytes(filePath));
                content.Headers.ContentType = new MediaTypeHeaderValue(ContentType(filePath));
                return new HttpRequestMessage(HttpMethod.Put, url) { Content = content };
            },
            "artifact upload of " + relativePath,
            cancellationToken);
    }

    /// <summary>The run's artifact root below the proxy: from an mlflow-artifacts: URI, else the server's default layout.</summary>
    public static string ArtifactProxyRoot(MlflowRun run)
    {
        const string scheme = "mlflow-artifacts:";
        if (run.ArtifactUri is { } uri && uri.StartsWith(scheme, StringComparison.Ordinal))
        {
            var rest = uri[scheme.Length..];
            // mlflow-artifacts://host:port/path names the server too; only the path is ours to use.
            if (rest.StartsWith("//", StringComparison.Ordinal))
            {
                var slash = rest.IndexOf('/', 2);
                rest = slash < 0 ? "" : rest[slash..];
            }
            return rest.Trim('/');
        }
        return $"{run.ExperimentId}/{run.RunId}/artifacts";
    }

    private static string ContentType(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".png" => "image/png",
        ".json" => "application/json",
        ".csv" => "text/csv",
        ".txt" or ".log" => "text/plain",
        _ => "application/octet-stream",
    };

    private string BaseUrl()
    {
        var text = Options.TrackingUri.GetLeftPart(UriPartial.Path);
        return text.EndsWith('/') ? text : text + "/";
    }

    private Task<JsonNode?> SendAsync(HttpMethod method, string pathAndQuery, JsonObject? body, string what, CancellationToken cancellationToken)
    {
        var url = BaseUrl() + "api/2.0/mlflow/" + pathAndQuery;
        var text = body?.ToJsonString();
        return SendWithRetriesAsync(
            () =>
            {
                var request = new HttpRequestMessage(method, url);
                if (text is not null)
                    request.Content = new StringContent(text, Encoding.UTF8, "application/json");
                return request;
            },
            what,
            cancellationToken);
    }

    private async Task<JsonNode?> SendWithRetriesAsync(Func<HttpRequestMessage> makeRequest, string what, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await SendOnceAsync(makeRequest, what, cancellationToken);
            }
            catch (MlflowException e) when (e.IsTransient && attempt < Options.RetryDelays.Count)
            {
                await delay(Options.RetryDelays[attempt], cancellationToken);
            }
        }
    }

    private async Task<JsonNode?> SendOnceAsync(Func<HttpRequestMessage> makeRequest, string what, CancellationToken cancellationToken)
    {
        using var request = makeRequest();
        Authorize(request);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Options.RequestTimeout);
        HttpResponseMessage response;
        string text;
        try
        {
            response = await http.SendAsync(request, timeout.Token);
            text = await response.Content.ReadAsStringAsync(timeout.Token);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new MlflowException($"MLflow {what} timed out after {Options.RequestTimeout.TotalSeconds:0.#} s at {Options.DisplayUri}.", null, null, true, e);
        }
        catch (HttpRequestException e)
        {
            throw new MlflowException($"MLflow {what} could not reach {Options.DisplayUri}: {e.Message}", null, null, true, e);
        }
        using (response)
        {
            if (response.IsSuccessStatusCode)
                return text.Length == 0 ? null : ParseOrNull(text);
            var status = (int)response.StatusCode;
            var error = ParseOrNull(text);
            var code = error?["error_code"]?.GetValue<string>();
            var message = error?["message"]?.GetValue<string>();
            var transient = status >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests
                || code is "TEMPORARILY_UNAVAILABLE" or "REQUEST_LIMIT_EXCEEDED";
            var detail = code is not null
                ? $"{code}: {message ?? "(no message)"}"
                : $"{(int)response.StatusCode} {response.ReasonPhrase}{(text.Length > 0 ? " - " + Truncate(text, 200) : "")}";
            var hint = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                ? $" (check {MlflowOptions.TokenVariable} or {MlflowOptions.UsernameVariable}/{MlflowOptions.PasswordVariable})"
                : "";
            throw new MlflowException($"MLflow {what} failed: {detail}{hint}", code, status, transient);
        }
    }

    private void Authorize(HttpRequestMessage request)
    {
        if (Options.Token is { } token)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        else if (Options.Username is { } user)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + Options.Password)));
    }

    private static JsonNode? ParseOrNull(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "...";

    public void Dispose()
    {
        if (ownsHttp)
            http.Dispose();
    }
}
