using System.Globalization;
using Microsoft.Extensions.AI;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;

namespace RLWorkbench.Routing.Workflow;

/// <summary>One provider's model and sampling settings. Defaults are the seed's (temperature 0.7, 768 output tokens).</summary>
public sealed record ProviderSettings
{
    public string Model { get; init; } = "";

    public float Temperature { get; init; } = 0.7f;

    public int MaxOutputTokens { get; init; } = 768;

    /// <summary>An OpenAI-compatible server (Ollama, vLLM, llama.cpp) or a proxy; null is the provider's public endpoint.</summary>
    public string? BaseUrl { get; init; }
}

/// <summary>The chat pipeline for each provider plus the settings the workflow sends with each call.</summary>
public sealed class ChatProviders(IReadOnlyDictionary<Provider, IChatClient> clients, IReadOnlyDictionary<Provider, ProviderSettings> settings, Provider judge)
{
    public IChatClient Client(Provider provider) => clients[provider];

    public ProviderSettings Settings(Provider provider) => settings[provider];

    public Provider Judge { get; } = judge;

    public ChatOptions OptionsFor(Provider provider)
    {
        var s = settings[provider];
        return new ChatOptions { ModelId = s.Model, Temperature = s.Temperature, MaxOutputTokens = s.MaxOutputTokens };
    }
}

/// <summary>Everything one iteration produced, in the order it happened.</summary>
public sealed record IterationResult(int Iteration, RoutingDecision Decision, string AgentOutput, JudgeVerdict Verdict, CallRecord Agent, CallRecord Judge, RoutingUpdate Update);

public enum StopReason
{
    Completed,
    Budget,
    Cancelled,
    ProviderDown,
    CassetteExhausted,
    WriteFailed,
}

public sealed record WorkflowOutcome(StopReason Reason, int IterationsDone, string? Message);

/// <summary>
/// The seed's loop: pick a task uniformly -> choose (agent, provider) -> agent call -> judge call -> reward (and penalty)
/// -> Q update -> epsilon decay. With concurrency K, up to K iterations are in flight; each one's decision is taken when it
/// starts and its update is applied when its judge answer returns, under one lock, so the table is never half-updated.
/// A provider answer that is not valid for its API is a failed call, not the end of the run: a failed agent call leaves an
/// empty answer for the judge, a failed judge call scores like a judge parse failure; the run stops once more than
/// <paramref name="maxFailedCalls"/> calls failed so.
/// </summary>
public sealed class RoutingWorkflow(
    TaskBank bank,
    QLearningCoordinator coordinator,
    ChatProviders providers,
    CompositeReward reward,
    IRandomSource random,
    PriceTable prices,
    BudgetGuard? budget = null,
    int judgeOutputChars = JudgePrompt.DefaultOutputChars,
    int maxFailedCalls = QlearnOptions.DefaultMaxFailedCalls,
    Action<string>? notice = null)
{
    private readonly Lock gate = new();
    private readonly RoutedTaskExecutor executor = new(providers, reward, judgeOutputChars);
    private int failedCalls;

    public async Task<WorkflowOutcome> RunAsync(int firstIteration, int iterations, int concurrency, Action<IterationResult> onIteration, CancellationToken cancellationToken)
    {
        if (concurrency < 1)
            throw new RoutingInputException($"Concurrency must be at least 1, not {concurrency}.");
        using var stopAll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var inFlight = new List<Task>();
        var done = 0;
        (StopReason Reason, string? Message)? stop = null;

        // The budget only stops new calls: calls already sent fit in their reservation, and cutting them off would drop
        // calls the provider received (and bills) from the record. A provider that is down or a write that failed cancels them.
        void StopWith(StopReason reason, string? message, bool cancelInFlight = true)
        {
            lock (gate)
            {
                stop ??= (reason, message);
            }
            if (cancelInFlight)
                stopAll.Cancel();
        }

        bool Stopping()
        {
            lock (gate)
                return stop is not null;
        }

        async Task RunOne(int iteration, RoutingDecision decision)
        {
            try
            {
                var result = await executor.ExecuteAsync(iteration, decision.Task, decision.Action, CallAsync, stopAll.Token);
                lock (gate)
                {
                    var nextType = RoutingNames.TaskTypes[random.Choice(RoutingNames.TaskTypes.Count)];
                    var update = coordinator.Complete(decision, result.RawReward, nextType);
                    onIteration(new IterationResult(iteration, decision, result.Output, result.Verdict, result.Agent, result.Judge, update));
                    // Counted once its rows and checkpoint are written: an iteration whose record failed is not done.
                    done++;
                }
            }
            catch (BudgetExhaustedException e)
            {
                // A provider billed past its worst case: the calls already sent fit in their reservations, so they finish.
                StopWith(StopReason.Budget, e.Message, cancelInFlight: false);
            }
            catch (ProviderCallException e)
            {
                StopWith(StopReason.ProviderDown, e.Message);
            }
            catch (CassetteExhaustedException e)
            {
                StopWith(StopReason.CassetteExhausted, e.Message);
            }
            catch (IOException e)
            {
                StopWith(StopReason.WriteFailed, $"writing the run failed after {done} iterations: {e.Message.TrimEnd('.')}.");
            }
            catch (OperationCanceledException) when (stopAll.IsCancellationRequested)
            {
                // Dropped: an iteration cut off by Ctrl+C or by another iteration's failure never updates the table.
            }
            finally
            {
                // Calls this iteration never sent give their reservation back.
                budget?.Release(iteration);
            }
        }

        for (var i = firstIteration; i < firstIteration + iterations; i++)
        {
            while (inFlight.Count >= concurrency)
            {
                var finished = await Task.WhenAny(inFlight);
                inFlight.Remove(finished);
            }
            if (Stopping() || stopAll.IsCancellationRequested)
                break;
            RoutingDecision decision;
            lock (gate)
            {
                var task = bank[random.Choice(bank.Count)];
                decision = coordinator.Decide(task);
            }
            var worstCase = WorstCaseCosts(decision);
            if (budget is not null && !budget.TryReserve(i, [worstCase.Agent, worstCase.Judge]))
            {
                StopWith(StopReason.Budget, $"stopped before iteration {i + 1}: its worst case (${worstCase.Total:0.0000}) would take the spend past the {budget.Describe()}.", cancelInFlight: false);
                break;
            }
            inFlight.Add(RunOne(i, decision));
        }
        await Task.WhenAll(inFlight);
        if (stop is { } s)
            return new WorkflowOutcome(s.Reason, done, s.Message);
        if (cancellationToken.IsCancellationRequested)
            return new WorkflowOutcome(StopReason.Cancelled, done, "stopped by the user");
        return new WorkflowOutcome(StopReason.Completed, done, null);
    }

    /// <summary>
    /// One call (the budget stage of the pipeline settles it). An answer that is not valid for the provider's API comes back
    /// as null text with the accounting stage's record of it (the provider received the call); past the failure limit the run stops.
    /// </summary>
    private async Task<ProviderAnswer> CallAsync(Provider provider, IList<ChatMessage> messages, CallContext context, CancellationToken cancellationToken)
    {
        try
        {
            var answer = await executor.SendAsync(provider, messages, context, cancellationToken);
            var record = answer.Record;
            var max = providers.Settings(provider).MaxOutputTokens;
            if (record.OutputTokens > max)
                notice?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"{provider.Name()} reported {record.OutputTokens} output tokens for iteration {context.Iteration + 1}'s {context.Purpose.ToString().ToLowerInvariant()} call, more than max_tokens {max}; recorded at the real cost ${record.CostUsd:0.0000}."));
            return answer;
        }
        catch (ProviderCallException e) when (e.Failure == ProviderFailure.MalformedResponse && e.Call is { } failed)
        {
            var count = Interlocked.Increment(ref failedCalls);
            notice?.Invoke($"{e.Message} Counted as failed call {count} of at most {maxFailedCalls}.");
            if (count > maxFailedCalls)
                throw new ProviderCallException(provider, e.Failure, $"{count} calls got answers that are not valid for their API, more than the {maxFailedCalls} allowed (maxFailedCalls); the last: {e.Message}", e);
            return new ProviderAnswer(null, failed);
        }
    }

    /// <summary>The most one iteration can cost (<see cref="RoutedTaskExecutor.WorstCase"/>).</summary>
    public double WorstCaseCost(RoutingDecision decision) => WorstCaseCosts(decision).Total;

    private RoutedTaskCost WorstCaseCosts(RoutingDecision decision) =>
        RoutedTaskExecutor.WorstCase(decision.Task, decision.Action, providers.Settings(decision.Action.Provider), providers.Settings(providers.Judge), prices, judgeOutputChars);
}
