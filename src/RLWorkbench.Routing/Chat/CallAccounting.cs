using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using Microsoft.Extensions.AI;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Chat;

public enum CallPurpose
{
    Agent,
    Judge,
}

/// <summary>
/// Who is calling and why, carried in ChatOptions.AdditionalProperties so wrappers (accounting, recording) and the simulated
/// backend can see it. The provider-facing wrapper strips it before anything goes on the wire. A call of a chain of more than
/// one step carries the chain and its step index (0-based; the judge's call carries the chain only), so the simulated backend
/// can draw each step independently and judge the chain as a whole; a single-step call carries neither and is what it always was.
/// </summary>
public sealed record CallContext(
    int Iteration, CallPurpose Purpose, Provider Provider, AgentRole Role, TaskType TaskType, string TaskId, Provider? JudgedProvider = null, int Step = 0, RoutingChain? Chain = null)
{
    public const string Key = "rlw.call";

    public static CallContext? From(ChatOptions? options) =>
        options?.AdditionalProperties?.TryGetValue(Key, out var value) == true ? value as CallContext : null;

    public ChatOptions Attach(ChatOptions options)
    {
        var copy = options.Clone();
        copy.AdditionalProperties = new AdditionalPropertiesDictionary(copy.AdditionalProperties ?? []) { [Key] = this };
        return copy;
    }
}

/// <summary>One finished call as the accounting wrapper measured it. Holds no prompt text and no credentials.</summary>
public sealed record CallRecord(
    int Iteration,
    string Purpose,
    string Provider,
    string Model,
    string? ResponseModel,
    long InputTokens,
    long OutputTokens,
    bool UsageReported,
    double LatencySeconds,
    double CostUsd,
    DateTimeOffset FinishedUtc,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Failure = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Step = null)
{
    /// <summary>A chain's agent calls share an iteration and purpose; the 0-based step tells them apart (null for a single agent and the judge).</summary>
    public static int? StepOf(CallContext? context) => context is { Chain: not null, Purpose: CallPurpose.Agent } ? context.Step : null;

    public const string Key = "rlw.call_record";

    /// <summary>Backends that know the latency better than a wall clock (simulated, replay) report it under this key.</summary>
    public const string ReportedLatencyKey = "rlw.latency_s";

    public static CallRecord Of(ChatResponse response) =>
        response.AdditionalProperties?.TryGetValue(Key, out var value) == true && value is CallRecord record
            ? record
            : throw new InvalidOperationException("The chat pipeline has no usage accounting wrapper, so the call has no cost or latency.");
}

/// <summary>The calls of a run and the seed's summary of them. Thread-safe: overlapping iterations add from several tasks.</summary>
public sealed class CallLedger
{
    private readonly ConcurrentQueue<CallRecord> calls = new();

    /// <summary>Raised after each call is added (the run's call log subscribes).</summary>
    public event Action<CallRecord>? Added;

    public IReadOnlyCollection<CallRecord> Calls => calls;

    public void Add(CallRecord record)
    {
        calls.Enqueue(record);
        Added?.Invoke(record);
    }

    public void AddRange(IEnumerable<CallRecord> records)
    {
        foreach (var r in records)
            calls.Enqueue(r);
    }

    public double TotalCostUsd => calls.Sum(c => c.CostUsd);

    public CallSummary Summary()
    {
        var list = calls.ToArray();
        return new CallSummary(
            list.Length,
            list.Sum(c => c.CostUsd),
            list.Length == 0 ? 0 : list.Average(c => c.LatencySeconds),
            list.Length == 0 ? 0 : list.Average(c => (double)(c.InputTokens + c.OutputTokens)),
            list.Sum(c => c.InputTokens),
            list.Sum(c => c.OutputTokens),
            list.GroupBy(c => c.Model).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(c => c.CostUsd)),
            list.Count(c => !c.UsageReported),
            list.Count(c => c.Failure is not null),
            list.Length - list.Select(c => (c.Iteration, c.Purpose, c.Step)).Distinct().Count());
    }
}

/// <summary>
/// The seed's call summary: total calls, total cost, mean latency, mean tokens per call, cost by model. RepeatedCalls are
/// calls of an iteration that was stopped part-way (Ctrl+C, a failed write) and run again: they were sent, so they count.
/// </summary>
public sealed record CallSummary(
    int TotalCalls,
    double TotalCostUsd,
    double MeanLatencySeconds,
    double MeanTokensPerCall,
    long InputTokens,
    long OutputTokens,
    IReadOnlyDictionary<string, double> CostByModel,
    int CallsWithoutUsage,
    int FailedCalls = 0,
    int RepeatedCalls = 0);

/// <summary>
/// Usage and cost accounting as a pipeline stage: tokens from the provider's usage report, wall-clock latency around the
/// call (or the latency a simulated/replayed backend reports), cost from the price table by the requested model.
/// </summary>
public sealed class UsageAccountingChatClient(IChatClient inner, Provider provider, string model, PriceTable prices, CallLedger ledger, TimeProvider time)
    : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var context = CallContext.From(options);
        var started = time.GetTimestamp();
        ChatResponse response;
        try
        {
            response = await base.GetResponseAsync(messages, options, cancellationToken);
        }
        catch (ProviderCallException e) when (e.Failure == ProviderFailure.MalformedResponse && e.Call is null)
        {
            // The provider received the call and answered; only its body was unusable, so the call is on the record
            // (without usage: none came back) and the caller decides whether the run can go on.
            var failed = new CallRecord(
                context is null ? 0 : context.Iteration + 1,
                context?.Purpose.ToString().ToLowerInvariant() ?? "direct",
                provider.Name(),
                options?.ModelId ?? model,
                null,
                0,
                0,
                false,
                time.GetElapsedTime(started).TotalSeconds,
                0,
                time.GetUtcNow(),
                "malformed-response",
                CallRecord.StepOf(context));
            ledger.Add(failed);
            throw new ProviderCallException(e.Provider, e.Failure, e.Message, e) { Call = failed };
        }
        var wall = time.GetElapsedTime(started).TotalSeconds;
        var latency = response.AdditionalProperties?.TryGetValue(CallRecord.ReportedLatencyKey, out var reported) == true && reported is double d ? d : wall;
        var requested = options?.ModelId ?? model;
        var usage = response.Usage;
        var input = usage?.InputTokenCount ?? 0;
        var output = usage?.OutputTokenCount ?? 0;
        var record = new CallRecord(
            context is null ? 0 : context.Iteration + 1,
            context?.Purpose.ToString().ToLowerInvariant() ?? "direct",
            provider.Name(),
            requested,
            response.ModelId,
            input,
            output,
            usage?.InputTokenCount is not null && usage.OutputTokenCount is not null,
            latency,
            prices.Cost(requested, input, output),
            time.GetUtcNow(),
            Step: CallRecord.StepOf(context));
        ledger.Add(record);
        (response.AdditionalProperties ??= [])[CallRecord.Key] = record;
        return response;
    }

    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("Routing calls are not streamed: the accounting needs the final usage report.");
}
