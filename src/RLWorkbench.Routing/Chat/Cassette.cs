using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using RLWorkbench.Routing.Core;
using RLWorkbench.Tracking;

namespace RLWorkbench.Routing.Chat;

/// <summary>One recorded exchange: the request as sent and the answer with its usage and latency. No credentials.</summary>
public sealed record CassetteEntry(
    string Key,
    string Provider,
    string? Model,
    IReadOnlyList<CassetteMessage> Messages,
    float? Temperature,
    int? MaxOutputTokens,
    string Text,
    string? ResponseModel,
    long? InputTokens,
    long? OutputTokens,
    double LatencySeconds);

public sealed record CassetteMessage(string Role, string Text);

/// <summary>
/// Cassettes are JSON lines, one exchange per line, keyed by a hash of (provider, model, messages) so a replay finds each
/// answer by what was asked rather than by position, which keeps working when calls overlap. Every step of a chain is its own
/// exchange: a later step's messages hold the previous step's answer, so its key follows from what the chain did before it.
/// </summary>
public static class Cassette
{
    internal static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static string KeyOf(Provider provider, string? model, IEnumerable<ChatMessage> messages)
    {
        var sb = new StringBuilder(provider.Name()).Append('\n').Append(model).Append('\n');
        foreach (var m in messages)
            sb.Append(m.Role.Value).Append('\u001f').Append(m.Text).Append('\u001e');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    public static IReadOnlyList<CassetteEntry> Read(string path)
    {
        if (!File.Exists(path))
            throw new RoutingInputException(InputFile.Missing("The cassette", path));
        var entries = new List<CassetteEntry>();
        var n = 0;
        foreach (var line in File.ReadLines(path))
        {
            n++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            try
            {
                var e = JsonSerializer.Deserialize<CassetteEntry>(line, Json);
                if (e?.Key is null || e.Provider is null || e.Text is null)
                    throw new JsonException("missing key, provider or text");
                entries.Add(e);
            }
            catch (JsonException ex)
            {
                throw new RoutingInputException($"Line {n} of the cassette '{path}' is not a recorded exchange ({ex.Message}).", ex);
            }
        }
        return entries;
    }
}

/// <summary>Appends every successful exchange to a cassette as it happens, so a run cut short still leaves a usable prefix.</summary>
public sealed class CassetteWriter : IDisposable
{
    private readonly StreamWriter writer;
    private readonly Lock gate = new();

    public CassetteWriter(string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        writer = new StreamWriter(new FileStream(full, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
    }

    public void Write(CassetteEntry entry)
    {
        var line = JsonSerializer.Serialize(entry, Cassette.Json);
        lock (gate)
        {
            writer.WriteLine(line);
            writer.Flush();
        }
    }

    public void Dispose()
    {
        lock (gate)
            writer.Dispose();
    }
}

/// <summary>Records below the accounting stage, so the cassette holds the provider's own usage and the measured latency.</summary>
public sealed class CassetteRecordingChatClient(IChatClient inner, Provider provider, string model, CassetteWriter writer, TimeProvider time) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        var started = time.GetTimestamp();
        var response = await base.GetResponseAsync(list, options, cancellationToken);
        var latency = response.AdditionalProperties?.TryGetValue(CallRecord.ReportedLatencyKey, out var r) == true && r is double d ? d : time.GetElapsedTime(started).TotalSeconds;
        var requested = options?.ModelId ?? model;
        writer.Write(new CassetteEntry(
            Cassette.KeyOf(provider, requested, list),
            provider.Name(),
            requested,
            list.Select(m => new CassetteMessage(m.Role.Value, m.Text)).ToArray(),
            options?.Temperature,
            options?.MaxOutputTokens,
            response.Text,
            response.ModelId,
            response.Usage?.InputTokenCount,
            response.Usage?.OutputTokenCount,
            latency));
        (response.AdditionalProperties ??= [])[CallRecord.ReportedLatencyKey] = latency;
        return response;
    }
}

/// <summary>Answers from a cassette: no network, no key, no spend; the recorded usage and latency come back unchanged.</summary>
public sealed class CassetteReplayChatClient : IChatClient
{
    private readonly Provider provider;
    private readonly string model;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<CassetteEntry>> answers;
    private readonly string source;

    public CassetteReplayChatClient(Provider provider, string model, IEnumerable<CassetteEntry> entries, string source)
    {
        this.provider = provider;
        this.model = model;
        this.source = source;
        answers = new(entries.Where(e => e.Provider == provider.Name())
            .GroupBy(e => e.Key)
            .ToDictionary(g => g.Key, g => new ConcurrentQueue<CassetteEntry>(g)));
    }

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var key = Cassette.KeyOf(provider, options?.ModelId ?? model, messages);
        if (!answers.TryGetValue(key, out var queue) || !queue.TryDequeue(out var entry))
        {
            var context = CallContext.From(options);
            var step = context?.Chain is { } chain ? context.Purpose == CallPurpose.Agent ? $" at step {context.Step + 1} of the chain {chain.Label}" : $" of the chain {chain.Label}" : "";
            var what = context is null ? "" : $" (iteration {context.Iteration + 1}, {context.Purpose.ToString().ToLowerInvariant()} call{step}, {context.Role.Name()} on task {context.TaskId})";
            throw new CassetteExhaustedException(
                $"The cassette {source} has no recorded {provider.Name()} answer for this call{what}; replay with the seed, settings and iteration count it was recorded with.");
        }
        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, entry.Text))
        {
            ModelId = entry.ResponseModel,
            Usage = entry.InputTokens is null && entry.OutputTokens is null ? null : new UsageDetails { InputTokenCount = entry.InputTokens, OutputTokenCount = entry.OutputTokens },
            AdditionalProperties = new() { [CallRecord.ReportedLatencyKey] = entry.LatencySeconds },
        });
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("Replay does not stream.");

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
