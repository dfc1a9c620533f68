using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using RLWorkbench.Tracking.Mlflow;

namespace RLWorkbench.Tracking.Tests;

public sealed class MlflowClientTests : IDisposable
{
    private readonly FakeMlflowServer server = new();
    private readonly List<TimeSpan> waits = [];

    public void Dispose() => server.Dispose();

    private MlflowClient Client(Func<MlflowOptions, MlflowOptions>? change = null)
    {
        var options = new MlflowOptions
        {
            TrackingUri = server.BaseUri,
            ExperimentName = "routing",
            RetryDelays = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)],
            RequestTimeout = TimeSpan.FromSeconds(5),
        };
        return new MlflowClient(change?.Invoke(options) ?? options, delay: (d, _) =>
        {
            lock (waits)
                waits.Add(d);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task GetOrCreate_creates_a_missing_experiment_once_and_finds_it_after()
    {
        using var client = Client();
        var id = await client.GetOrCreateExperimentAsync("routing");
        var again = await client.GetOrCreateExperimentAsync("routing");

        Assert.Equal(id, again);
        Assert.Equal(server.Experiments["routing"], id);
        var requests = server.Snapshot();
        Assert.Equal(
            ["GET /api/2.0/mlflow/experiments/get-by-name", "POST /api/2.0/mlflow/experiments/create", "GET /api/2.0/mlflow/experiments/get-by-name"],
            requests.Select(r => r.Method + " " + r.Path));
        Assert.Equal("?experiment_name=routing", requests[0].Query);
        Assert.Equal("""{"name":"routing"}""", requests[1].Body);
    }

    [Fact]
    public async Task A_create_that_loses_a_race_takes_the_experiment_the_winner_made()
    {
        server.CreateConcurrentlyOnFirstLookup = "shared name";
        using var client = Client();
        var id = await client.GetOrCreateExperimentAsync("shared name");

        Assert.Equal(server.Experiments["shared name"], id);
        Assert.Equal(
            ["experiments/get-by-name", "experiments/create", "experiments/get-by-name"],
            server.Snapshot().Select(r => r.Path.Replace("/api/2.0/mlflow/", "")));
        Assert.Equal("?experiment_name=shared%20name", server.Snapshot()[0].Query);
    }

    [Fact]
    public async Task CreateRun_sends_experiment_name_start_time_and_tags_as_the_api_shapes_them()
    {
        using var client = Client();
        var start = new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
        var run = await client.CreateRunAsync("0", "ppo-20250301-120000", start, [new MlflowTag("rlw.kind", "ppo")]);

        Assert.Equal("run1", run.RunId);
        Assert.Equal("mlflow-artifacts:/0/run1/artifacts", run.ArtifactUri);
        var body = JsonNode.Parse(server.Snapshot().Single().Body)!;
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"experiment_id":"0","run_name":"ppo-20250301-120000","start_time":1740830400000,"tags":[{"key":"rlw.kind","value":"ppo"}]}"""),
            body));
    }

    [Fact]
    public async Task LogBatch_splits_to_MLflow_limits_and_every_item_arrives_in_order()
    {
        using var client = Client();
        var run = await client.CreateRunAsync("0", "r", DateTimeOffset.UnixEpoch, []);
        var metrics = Enumerable.Range(0, 2500).Select(i => new MlflowMetric("loss", i * 0.5, 1000 + i, i)).ToList();
        var parameters = Enumerable.Range(0, 250).Select(i => new MlflowParam($"p{i}", $"{i}")).ToList();
        var tags = Enumerable.Range(0, 150).Select(i => new MlflowTag($"t{i}", "x")).ToList();
        await client.LogBatchAsync(run.RunId, metrics, parameters, tags);

        var batches = server.LogBatches.Select(r => JsonNode.Parse(r.Body)!).ToList();
        foreach (var b in batches)
        {
            var m = b["metrics"]!.AsArray().Count;
            var p = b["params"]!.AsArray().Count;
            var t = b["tags"]!.AsArray().Count;
            Assert.InRange(m, 0, 1000);
            Assert.InRange(p, 0, 100);
            Assert.InRange(t, 0, 100);
            Assert.InRange(m + p + t, 1, 1000);
            Assert.Equal(run.RunId, (string?)b["run_id"]);
        }
        Assert.Equal(3, batches.Count);
        var stored = server.SingleRun();
        Assert.Equal(metrics.Select(m => (m.Key, m.Value, m.Timestamp, m.Step)), stored.Metrics);
        Assert.Equal(250, stored.Params.Count);
        Assert.Equal(150, stored.Tags.Count);
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"key":"loss","value":0.5,"timestamp":1001,"step":1}"""),
            batches.SelectMany(b => b["metrics"]!.AsArray()).ElementAt(1)));
    }

    [Fact]
    public void Split_fills_requests_up_to_the_total_and_never_over_any_limit()
    {
        var limits = new LogBatchLimits(Metrics: 5, Params: 2, Tags: 2, Total: 6);
        var batches = LogBatch.Split(
            Enumerable.Range(0, 9).Select(i => new MlflowMetric("m", i, 0, i)).ToList(),
            Enumerable.Range(0, 3).Select(i => new MlflowParam($"p{i}", "v")).ToList(),
            Enumerable.Range(0, 3).Select(i => new MlflowTag($"t{i}", "v")).ToList(),
            limits).ToList();
        Assert.Equal([(2, 2, 2), (1, 1, 4), (0, 0, 3)], batches.Select(b => (b.Params.Count, b.Tags.Count, b.Metrics.Count)));
        Assert.Equal(Enumerable.Range(0, 9).Select(i => (double)i), batches.SelectMany(b => b.Metrics).Select(m => m.Value));
    }

    [Fact]
    public async Task A_batch_the_server_finds_over_its_limit_is_a_readable_error_and_not_retried()
    {
        server.MaxMetricsPerBatch = 10;
        using var client = Client();
        var run = await client.CreateRunAsync("0", "r", DateTimeOffset.UnixEpoch, []);
        var e = await Assert.ThrowsAsync<MlflowException>(() => client.LogBatchAsync(run.RunId, Enumerable.Range(0, 20).Select(i => new MlflowMetric("m", i, 0, i)).ToList(), [], []));

        Assert.Equal("INVALID_PARAMETER_VALUE", e.ErrorCode);
        Assert.False(e.IsTransient);
        Assert.Equal("MLflow runs/log-batch failed: INVALID_PARAMETER_VALUE: A batch logging request can contain at most 10 metrics. Got 20 metrics. Please split up metrics across multiple requests and try again.", e.Message);
        Assert.Single(server.LogBatches);
        Assert.Empty(waits);
    }

    [Fact]
    public async Task A_param_cannot_change_value_once_written()
    {
        using var client = Client();
        var run = await client.CreateRunAsync("0", "r", DateTimeOffset.UnixEpoch, []);
        await client.LogBatchAsync(run.RunId, [], [new MlflowParam("lr", "0.1")], []);
        await client.LogBatchAsync(run.RunId, [], [new MlflowParam("lr", "0.1")], []);
        var e = await Assert.ThrowsAsync<MlflowException>(() => client.LogBatchAsync(run.RunId, [], [new MlflowParam("lr", "0.2")], []));

        Assert.Equal("INVALID_PARAMETER_VALUE", e.ErrorCode);
        Assert.Contains("Changing param values is not allowed. Param with key='lr' was already logged with value='0.1'", e.Message);
        Assert.Equal("0.1", server.SingleRun().Params["lr"]);
        Assert.Equal(3, server.LogBatches.Count());
    }

    [Fact]
    public async Task Server_errors_are_retried_with_the_configured_backoff()
    {
        using var client = Client();
        server.FailNext(2, 503, "TEMPORARILY_UNAVAILABLE");
        var id = await client.CreateExperimentAsync("flaky");

        Assert.Equal(server.Experiments["flaky"], id);
        Assert.Equal(3, server.Snapshot().Count);
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)], waits);
    }

    [Fact]
    public async Task Server_errors_past_the_last_retry_are_reported_as_transient()
    {
        using var client = Client();
        server.FailNext(5, 500);
        var e = await Assert.ThrowsAsync<MlflowException>(() => client.CreateExperimentAsync("x"));
        Assert.True(e.IsTransient);
        Assert.Equal(500, e.StatusCode);
        Assert.Equal("MLflow experiments/create failed: INTERNAL_ERROR: injected failure", e.Message);
        Assert.Equal(3, server.Snapshot().Count);
    }

    [Fact]
    public async Task A_request_that_hangs_times_out_and_is_retried()
    {
        using var client = Client(o => new MlflowOptions { TrackingUri = o.TrackingUri, RetryDelays = o.RetryDelays, RequestTimeout = TimeSpan.FromMilliseconds(200) });
        server.StallNext(TimeSpan.FromSeconds(3));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var id = await client.CreateExperimentAsync("slow");

        Assert.Equal(server.Experiments["slow"], id);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
        Assert.Equal([TimeSpan.FromSeconds(1)], waits);
    }

    [Fact]
    public async Task A_server_that_is_not_there_is_a_transient_error_naming_it()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        using var client = Client(o => new MlflowOptions { TrackingUri = new Uri($"http://127.0.0.1:{port}"), RetryDelays = [TimeSpan.Zero] });
        var e = await Assert.ThrowsAsync<MlflowException>(() => client.GetExperimentIdByNameAsync("x"));
        Assert.True(e.IsTransient);
        Assert.StartsWith($"MLflow experiments/get-by-name could not reach http://127.0.0.1:{port}", e.Message);
        Assert.Single(waits);
    }

    [Fact]
    public async Task A_bearer_token_or_basic_credentials_go_in_the_Authorization_header()
    {
        using (var bearer = Client(o => new MlflowOptions { TrackingUri = o.TrackingUri, Token = "s3cret-token" }))
            await bearer.GetExperimentIdByNameAsync("Default");
        using (var basic = Client(o => new MlflowOptions { TrackingUri = o.TrackingUri, Username = "ann", Password = "pa:ss" }))
            await basic.GetExperimentIdByNameAsync("Default");
        using (var none = Client())
            await none.GetExperimentIdByNameAsync("Default");

        Assert.Equal(
            ["Bearer s3cret-token", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("ann:pa:ss")), null],
            server.Snapshot().Select(r => r.Authorization));
    }

    [Fact]
    public async Task An_unauthorised_answer_without_an_MLflow_body_still_reads_as_one_sentence()
    {
        server.FailNext(1, 401, "UNAUTHENTICATED");
        using var client = Client();
        var e = await Assert.ThrowsAsync<MlflowException>(() => client.GetExperimentIdByNameAsync("x"));
        Assert.False(e.IsTransient);
        Assert.Contains("UNAUTHENTICATED", e.Message);
        Assert.Contains("MLFLOW_TRACKING_TOKEN", e.Message);
    }

    [Fact]
    public async Task UpdateRun_and_artifact_upload_use_the_documented_paths_and_bodies()
    {
        using var client = Client();
        var run = await client.CreateRunAsync("0", "r", DateTimeOffset.UnixEpoch, []);
        await client.UpdateRunAsync(run.RunId, MlflowRunStatus.Finished, DateTimeOffset.FromUnixTimeMilliseconds(5000));
        using var temp = new TempDirectory();
        var file = temp.Combine("plot.png");
        File.WriteAllBytes(file, [1, 2, 3]);
        await client.UploadArtifactAsync(run, "plots/learning curve.png", file);

        var requests = server.Snapshot();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"run_id":"run1","status":"FINISHED","end_time":5000}"""), JsonNode.Parse(requests[1].Body)));
        Assert.Equal("PUT", requests[2].Method);
        Assert.Equal("/api/2.0/mlflow-artifacts/artifacts/0/run1/artifacts/plots/learning%20curve.png", requests[2].Path);
        Assert.Equal("image/png", requests[2].ContentType);
        Assert.Equal([1, 2, 3], server.Artifacts["0/run1/artifacts/plots/learning curve.png"]);
        Assert.Equal("FINISHED", server.SingleRun().Status);
    }

    [Theory]
    [InlineData("mlflow-artifacts:/3/abc/artifacts", "3/abc/artifacts")]
    [InlineData("mlflow-artifacts://tracking:5000/3/abc/artifacts", "3/abc/artifacts")]
    [InlineData("s3://bucket/3/abc/artifacts", "7/r/artifacts")]
    [InlineData(null, "7/r/artifacts")]
    public void The_artifact_root_comes_from_the_run_artifact_uri_when_it_is_proxied(string? artifactUri, string expected)
        => Assert.Equal(expected, MlflowClient.ArtifactProxyRoot(new MlflowRun("r", "7", artifactUri)));

    [Fact]
    public void Options_are_read_the_MLflow_way_and_never_show_credentials()
    {
        var env = new Dictionary<string, string>
        {
            ["MLFLOW_TRACKING_URI"] = "https://bob:hunter2@mlflow.example.org/prefix/",
            ["MLFLOW_EXPERIMENT_NAME"] = "phase2",
        };
        var options = MlflowOptions.FromEnvironment(env.GetValueOrDefault)!;
        Assert.Equal("bob", options.Username);
        Assert.Equal("hunter2", options.Password);
        Assert.Equal("phase2", options.ExperimentName);
        Assert.Equal("https://mlflow.example.org/prefix", options.DisplayUri);
        Assert.DoesNotContain("hunter2", options.ToString());

        Assert.Null(MlflowOptions.FromEnvironment(_ => null));
        Assert.Equal("Default", MlflowOptions.FromEnvironment(new Dictionary<string, string> { ["MLFLOW_TRACKING_URI"] = "http://h:5000" }.GetValueOrDefault)!.ExperimentName);
        var bad = Assert.Throws<MlflowConfigurationException>(() => MlflowOptions.FromEnvironment(new Dictionary<string, string> { ["MLFLOW_TRACKING_URI"] = "file:///tmp/mlruns" }.GetValueOrDefault));
        Assert.StartsWith("MLFLOW_TRACKING_URI must be an http:// or https:// address", bad.Message);
        Assert.Throws<MlflowConfigurationException>(() => MlflowOptions.FromEnvironment(new Dictionary<string, string> { ["MLFLOW_TRACKING_URI"] = "http://h", ["MLFLOW_TRACKING_USERNAME"] = "u" }.GetValueOrDefault));
    }

    [Fact]
    public async Task Non_finite_metric_values_are_sent_as_protobuf_JSON_spells_them()
    {
        using var client = Client();
        var run = await client.CreateRunAsync("0", "r", DateTimeOffset.UnixEpoch, []);
        await client.LogBatchAsync(run.RunId, [new MlflowMetric("kl", double.NaN, 1, 0), new MlflowMetric("kl", double.PositiveInfinity, 2, 1)], [], []);
        var metrics = JsonNode.Parse(server.LogBatches.Single().Body)!["metrics"]!.AsArray();
        Assert.Equal("NaN", (string?)metrics[0]!["value"]);
        Assert.Equal("Infinity", (string?)metrics[1]!["value"]);
    }
}
