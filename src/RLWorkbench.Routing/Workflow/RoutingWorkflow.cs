using System.Globalization;
using Microsoft.Extensions.AI;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;
using RLWorkbench.Routing.Providers;

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

/// <summary>
/// Everything one iteration produced, in the order it happened. For a chain, <paramref name="Agent"/> sums its steps' calls
/// (tokens, latency, cost) and <paramref name="AgentOutput"/> is the last step's answer; a chain that failed part-way has an
/// empty output, a failed verdict and the calls it made (its judge call, never sent, costs nothing).
/// </summary>
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
    Action<string>? notice = null,
    RewardWeights? weights = null,
    TaskArrivals? arrivals = null)
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
                RoutedChainResult? result = null;
                ChainInterruptedException? broken = null;
                try
                {
                    result = await executor.ExecuteChainAsync(iteration, decision.Task, decision.Chain, CallAsync, stopAll.Token);
                }
                catch (ChainInterruptedException e) when (e.InnerException is ProviderCallException)
                {
                    broken = e;
                }
                catch (ChainInterruptedException e)
                {
                    // Not a provider's failure (the budget, a cassette that ran out, a failed write): handled as for a single agent.
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException!);
                }
                if (broken is not null && !FailedChain(iteration, broken))
                {
                    StopWith(StopReason.ProviderDown, $"{failedCalls} calls failed, more than the {maxFailedCalls} allowed (maxFailedCalls); the last: {broken.Message}");
                    return;
                }
                lock (gate)
                {
                    IterationResult finished;
                    if (result is not null)
                    {
                        var nextType = RoutingNames.TaskTypes[random.Choice(RoutingNames.TaskTypes.Count)];
                        var update = coordinator.Complete(decision, result.RawReward, result.Vector, nextType, weights);
                        finished = new IterationResult(iteration, decision, result.Output, result.Verdict, AgentCalls(result.Steps.Select(s => s.Record).ToArray()), result.Judge, update);
                    }
                    else
                    {
                        finished = FailedIteration(iteration, decision, broken!);
                    }
                    onIteration(finished);
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
            // A task arrives (the simulated clock moves to it) before it is drawn and routed, so the state sees the providers then.
            arrivals?.Next(i);
            RoutingDecision decision;
            lock (gate)
            {
                var task = bank[random.Choice(bank.Count)];
                decision = coordinator.Decide(task);
            }
            var worstCase = WorstCaseCosts(decision);
            if (budget is not null && !budget.TryReserve(i, [.. worstCase.Steps, worstCase.Judge]))
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

    /// <summary>
    /// A chain failed part-way: its calls are already in the call log (the accounting stage records each as it ends) and in
    /// the budget; the task counts as failed, and as one failed call toward maxFailedCalls. False once past that limit.
    /// </summary>
    private bool FailedChain(int iteration, ChainInterruptedException e)
    {
        var count = Interlocked.Increment(ref failedCalls);
        notice?.Invoke(string.Create(CultureInfo.InvariantCulture,
            $"iteration {iteration + 1}: {e.Message.TrimEnd('.')}. Its {e.Completed.Count} calls (${e.CompletedCostUsd:0.0000}) are recorded and the task counts as failed ({count} of at most {maxFailedCalls} failed calls)."));
        return count <= maxFailedCalls;
    }

    /// <summary>The row of a chain that failed part-way: learned as reward 0, a failed verdict, the calls it made.</summary>
    private IterationResult FailedIteration(int iteration, RoutingDecision decision, ChainInterruptedException e)
    {
        var agentCalls = e.Completed.Where(c => !string.Equals(c.Purpose, nameof(CallPurpose.Judge), StringComparison.OrdinalIgnoreCase)).ToArray();
        var judge = e.Completed.FirstOrDefault(c => string.Equals(c.Purpose, nameof(CallPurpose.Judge), StringComparison.OrdinalIgnoreCase))
            ?? new CallRecord(iteration + 1, "judge", providers.Judge.Name(), providers.Settings(providers.Judge).Model, null, 0, 0, false, 0, 0, DateTimeOffset.MinValue, "not sent: the chain failed before it");
        var agent = agentCalls.Length > 0 ? AgentCalls(agentCalls)
            : new CallRecord(iteration + 1, "agent", decision.Chain.First.Provider.Name(), providers.Settings(decision.Chain.First.Provider).Model, null, 0, 0, false, 0, 0, DateTimeOffset.MinValue, "no step answered");
        return new IterationResult(iteration, decision, "", JudgeVerdict.NotJudged(e.Message), agent, judge, coordinator.Failed(decision));
    }

    /// <summary>A chain's agent calls as one record: tokens, latency and cost summed in step order (one step is its own record).</summary>
    private static CallRecord AgentCalls(IReadOnlyList<CallRecord> steps)
    {
        if (steps.Count == 1)
            return steps[0];
        var cost = 0.0;
        var latency = 0.0;
        foreach (var c in steps)
        {
            cost += c.CostUsd;
            latency += c.LatencySeconds;
        }
        return steps[^1] with
        {
            Provider = string.Join(RoutingChain.Separator, steps.Select(c => c.Provider)),
            Model = string.Join(RoutingChain.Separator, steps.Select(c => c.Model)),
            InputTokens = steps.Sum(c => c.InputTokens),
            OutputTokens = steps.Sum(c => c.OutputTokens),
            UsageReported = steps.All(c => c.UsageReported),
            LatencySeconds = latency,
            CostUsd = cost,
        };
    }

    /// <summary>The most one iteration can cost: each call of its chain at its full allowance (<see cref="RoutedTaskExecutor.WorstCase(RoutingTask, RoutingChain, Func{Provider, ProviderSettings}, ProviderSettings, PriceTable, int)"/>).</summary>
    public double WorstCaseCost(RoutingDecision decision) => WorstCaseCosts(decision).Total;

    private RoutedChainCost WorstCaseCosts(RoutingDecision decision) =>
        RoutedTaskExecutor.WorstCase(decision.Task, decision.Chain, providers.Settings, providers.Settings(providers.Judge), prices, judgeOutputChars);
}
