using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RLWorkbench.Routing.Tests;

internal sealed record LoopbackRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body);

internal sealed record LoopbackResponse(int Status, string Body, IReadOnlyDictionary<string, string>? Headers = null, TimeSpan Delay = default);

/// <summary>A real HTTP server on 127.0.0.1 that answers from a script, so the real SDKs are tested on the wire without the internet.</summary>
internal sealed class LoopbackServer : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly ConcurrentQueue<LoopbackResponse> script = new();
    private readonly Func<LoopbackRequest, LoopbackResponse> fallback;
    private readonly CancellationTokenSource stop = new();

    public LoopbackServer(Func<LoopbackRequest, LoopbackResponse> fallback)
    {
        this.fallback = fallback;
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        BaseUrl = $"http://127.0.0.1:{port}";
        listener.Prefixes.Add(BaseUrl + "/");
        listener.Start();
        _ = Task.Run(AcceptLoop);
    }

    public string BaseUrl { get; }

    public ConcurrentQueue<LoopbackRequest> Requests { get; } = new();

    public LoopbackServer Then(LoopbackResponse response)
    {
        script.Enqueue(response);
        return this;
    }

    private async Task AcceptLoop()
    {
        while (!stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            _ = Task.Run(() => Answer(context));
        }
    }

    private async Task Answer(HttpListenerContext context)
    {
        try
        {
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var headers = context.Request.Headers.AllKeys.Where(k => k is not null).ToDictionary(k => k!.ToLowerInvariant(), k => context.Request.Headers[k]!);
            var request = new LoopbackRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, headers, body);
            Requests.Enqueue(request);
            var response = script.TryDequeue(out var scripted) ? scripted : fallback(request);
            if (response.Delay > TimeSpan.Zero)
                await Task.Delay(response.Delay, stop.Token);
            context.Response.StatusCode = response.Status;
            context.Response.ContentType = "application/json";
            foreach (var (k, v) in response.Headers ?? new Dictionary<string, string>())
                context.Response.Headers[k] = v;
            var bytes = Encoding.UTF8.GetBytes(response.Body);
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
        catch (Exception)
        {
            try
            {
                context.Response.Abort();
            }
            catch (Exception)
            {
                // the client already went away (an attempt that timed out)
            }
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Close();
    }

    private static string J(object value) => System.Text.Json.JsonSerializer.Serialize(value);

    public static LoopbackResponse OpenAIAnswer(string text, int promptTokens, int completionTokens, string model = "gpt-4o-mini-2024-07-18") => new(200,
        "{\"id\":\"chatcmpl-test\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":" + J(model) + ","
        + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":" + J(text) + ",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
        + "\"usage\":{\"prompt_tokens\":" + promptTokens + ",\"completion_tokens\":" + completionTokens + ",\"total_tokens\":" + (promptTokens + completionTokens) + "}}");

    public static LoopbackResponse AnthropicAnswer(string text, int inputTokens, int outputTokens, string model = "claude-3-5-haiku-20241022") => new(200,
        "{\"id\":\"msg_test\",\"type\":\"message\",\"role\":\"assistant\",\"model\":" + J(model) + ","
        + "\"content\":[{\"type\":\"text\",\"text\":" + J(text) + "}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,"
        + "\"usage\":{\"input_tokens\":" + inputTokens + ",\"output_tokens\":" + outputTokens + "}}");

    public static LoopbackResponse OpenAIError(int status, string message, IReadOnlyDictionary<string, string>? headers = null) =>
        new(status, "{\"error\":{\"message\":" + J(message) + ",\"type\":\"server_error\",\"param\":null,\"code\":null}}", headers);

    public static LoopbackResponse AnthropicError(int status, string type, string message, IReadOnlyDictionary<string, string>? headers = null) =>
        new(status, "{\"type\":\"error\",\"error\":{\"type\":" + J(type) + ",\"message\":" + J(message) + "}}", headers);
}

/// <summary>Time that jumps forward instead of waiting: retry delays are recorded and take no wall time.</summary>
internal sealed class FastForwardTime : TimeProvider
{
    private readonly Lock gate = new();
    private DateTimeOffset now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public List<TimeSpan> Waits { get; } = [];

    public override DateTimeOffset GetUtcNow()
    {
        lock (gate)
            return now;
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            lock (gate)
            {
                Waits.Add(dueTime);
                now += dueTime;
            }
            ThreadPool.QueueUserWorkItem(_ => callback(state));
        }
        return new NoTimer();
    }

    private sealed class NoTimer : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => true;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
