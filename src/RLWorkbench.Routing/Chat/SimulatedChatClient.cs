using System.Globalization;
using Microsoft.Extensions.AI;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Chat;

/// <summary>
/// A provider that answers from a <see cref="SimulationProfile"/>: agent answers with drawn token counts and latency, and
/// judge answers as JSON scores drawn for the (role, provider, task type) being judged (for a chain, the profile's chain scores),
/// which then go through the same judge parser as a live answer. Each call's draws come from a stream seeded by (seed, provider, iteration, purpose), so
/// a run is reproducible even when calls overlap.
/// </summary>
public sealed class SimulatedChatClient(Provider provider, SimulationProfile profile, long seed, TimeSpan callDuration, Func<TimeSpan, CancellationToken, Task>? wait = null) : IChatClient
{
    private readonly Func<TimeSpan, CancellationToken, Task> wait = wait ?? ((d, ct) => Task.Delay(d, ct));

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var context = CallContext.From(options)
            ?? throw new InvalidOperationException("The simulated backend answers routing calls only: the call carries no routing context.");
        var list = messages.ToList();
        var random = new SeededRandomSource(CallSeed(context));
        var behaviour = profile.Providers[provider];
        var inputTokens = list.Sum(m => EstimateTokens(m.Text));
        string text;
        long outputTokens;
        double latency;
        if (context.Purpose == CallPurpose.Agent)
        {
            var max = options?.MaxOutputTokens ?? int.MaxValue;
            outputTokens = (long)Math.Clamp(Math.Round(Normal(random, behaviour.OutputTokens)), 16, max);
            latency = Math.Max(0.1, Normal(random, behaviour.LatencySeconds));
            text = $"[simulated {context.Role.Name()} answer from {provider.Name()} to task {context.TaskId}, {outputTokens} tokens]";
            if (context.Chain is not null)
                text = FullLength(text, outputTokens);
        }
        else
        {
            var judged = context.Chain is { } chain ? profile.ChainScores(chain, context.TaskType) : profile.Scores(context.Role, context.JudgedProvider ?? provider, context.TaskType);
            outputTokens = (long)Math.Max(8, Math.Round(Normal(random, behaviour.JudgeOutputTokens)));
            latency = Math.Max(0.05, Normal(random, behaviour.LatencySeconds) * behaviour.JudgeLatencyFactor);
            var scores = new[] { judged.Relevance, judged.Accuracy, judged.Completeness, judged.AgentMatch }
                .Select(d => Math.Round(Math.Clamp(Normal(random, d), 0, 1), 2))
                .ToArray();
            text = random.Random() < profile.JudgeFormatErrorRate
                ? $"The answer is mostly on target; I would put it at about {scores.Average():0.0} overall."
                : string.Create(CultureInfo.InvariantCulture,
                    $"{{\"relevance\": {scores[0]}, \"accuracy\": {scores[1]}, \"completeness\": {scores[2]}, \"agent_match\": {scores[3]}, \"reasoning\": \"simulated judgement\"}}");
        }
        if (callDuration > TimeSpan.Zero)
            await wait(callDuration, cancellationToken);
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, text))
        {
            ModelId = options?.ModelId,
            FinishReason = ChatFinishReason.Stop,
            Usage = new UsageDetails { InputTokenCount = inputTokens, OutputTokenCount = outputTokens, TotalTokenCount = inputTokens + outputTokens },
            AdditionalProperties = new() { [CallRecord.ReportedLatencyKey] = latency },
        };
    }

    /// <summary>
    /// A chain step's answer is read by the next step (and the judge), so it carries as many tokens as it reports: exactly four
    /// characters a token. A single step's answer keeps its short form, which every recorded single-agent number was made with.
    /// </summary>
    internal static string FullLength(string header, long outputTokens)
    {
        var length = (int)Math.Min(outputTokens * 4, int.MaxValue);
        if (header.Length >= length)
            return header[..length];
        const string filler = " simulated content";
        var text = new System.Text.StringBuilder(header, length);
        while (text.Length < length)
            text.Append(filler, 0, Math.Min(filler.Length, length - text.Length));
        return text.ToString();
    }

    /// <summary>About four characters per token, the usual rule of thumb for English text.</summary>
    public static long EstimateTokens(string? text) => string.IsNullOrEmpty(text) ? 0 : (text.Length + 3) / 4;

    // Each step of a chain draws its own stream (the same provider may serve two steps of one iteration); step 0 is the
    // single-agent call's stream, so single-step runs draw exactly what they always drew.
    private long CallSeed(CallContext context) =>
        unchecked(seed * 1_000_003 + context.Iteration * 7_919 + provider.Id * 131 + (int)context.Purpose * 17 + 1 + context.Step * 104_729L);

    private static double Normal(IRandomSource random, Distribution d)
    {
        // Box-Muller; 1 - u keeps the logarithm finite.
        var u1 = 1.0 - random.Random();
        var u2 = random.Random();
        return d.Mean + d.Spread * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The simulated backend does not stream.");

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
