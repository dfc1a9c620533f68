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

        async Task RunOne(int iteration, RoutingDecision decision, RoutedTaskCost reserved)
        {
            try
            {
                var result = await ExecuteAsync(iteration, decision, reserved, StopWith, stopAll.Token);
                if (result is null)
                    return;
                lock (gate)
                {
                    var nextType = RoutingNames.TaskTypes[random.Choice(RoutingNames.TaskTypes.Count)];
                    var update = coordinator.Complete(decision, result.Value.RawReward, nextType);
                    onIteration(new IterationResult(iteration, decision, result.Value.Output, result.Value.Verdict, result.Value.Agent, result.Value.Judge, update));
                    // Counted once its rows and checkpoint are written: an iteration whose record failed is not done.
                    done++;
                }
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
            if (budget is not null && !budget.TryReserve(worstCase.Total))
            {
                StopWith(StopReason.Budget, $"stopped before iteration {i + 1}: its worst case (${worstCase.Total:0.0000}) would take the spend past the {budget.Describe()}.", cancelInFlight: false);
                break;
            }
            inFlight.Add(RunOne(i, decision, budget is null ? RoutedTaskCost.None : worstCase));
        }
        await Task.WhenAll(inFlight);
        if (stop is { } s)
            return new WorkflowOutcome(s.Reason, done, s.Message);
        if (cancellationToken.IsCancellationRequested)
            return new WorkflowOutcome(StopReason.Cancelled, done, "stopped by the user");
        return new WorkflowOutcome(StopReason.Completed, done, null);
    }

    /// <summary>One iteration's two calls; null when it was stopped between them (the budget no longer fits the judge call).</summary>
    private async Task<RoutedTaskResult?> ExecuteAsync(
        int iteration, RoutingDecision decision, RoutedTaskCost reserved, Action<StopReason, string?, bool> stopWith, CancellationToken cancellationToken)
    {
        var judgeReserved = reserved.Judge;
        try
        {
            var task = decision.Task;
            var action = decision.Action;
            var agent = await executor.AgentAsync(iteration, task, action, (provider, messages, context, token) => CallAsync(provider, reserved.Agent, messages, context, token), cancellationToken);
            if (budget is not null && budget.OverLimit)
            {
                stopWith(StopReason.Budget, $"stopped before the judge call of iteration {iteration + 1}: the spend (${budget.SpentUsd:0.0000}) is past the ${BudgetGuard.Usd(budget.LimitUsd)} budget because a provider billed more than its worst case.", false);
                return null;
            }
            judgeReserved = 0;
            return await executor.JudgeAsync(iteration, task, action, agent, (provider, messages, context, token) => CallAsync(provider, reserved.Judge, messages, context, token), cancellationToken);
        }
        finally
        {
            // A judge call never sent gives its reservation back.
            if (judgeReserved > 0)
                budget?.Settle(judgeReserved, 0);
        }
    }

    /// <summary>
    /// One call, settled against its reservation. An answer that is not valid for the provider's API comes back as null text
    /// with the accounting stage's record of it (the provider received the call); past the failure limit the run stops.
    /// </summary>
    private async Task<ProviderAnswer> CallAsync(
        Provider provider, double reserved, IList<ChatMessage> messages, CallContext context, CancellationToken cancellationToken)
    {
        var spent = 0.0;
        try
        {
            var answer = await executor.SendAsync(provider, messages, context, cancellationToken);
            var record = answer.Record;
            spent = record.CostUsd;
            var max = providers.Settings(provider).MaxOutputTokens;
            if (record.OutputTokens > max)
                notice?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"{provider.Name()} reported {record.OutputTokens} output tokens for iteration {context.Iteration + 1}'s {context.Purpose.ToString().ToLowerInvariant()} call, more than max_tokens {max}; recorded at the real cost ${record.CostUsd:0.0000}."));
            return answer;
        }
        catch (ProviderCallException e) when (e.Failure == ProviderFailure.MalformedResponse && e.Call is { } failed)
        {
            spent = failed.CostUsd;
            var count = Interlocked.Increment(ref failedCalls);
            notice?.Invoke($"{e.Message} Counted as failed call {count} of at most {maxFailedCalls}.");
            if (count > maxFailedCalls)
                throw new ProviderCallException(provider, e.Failure, $"{count} calls got answers that are not valid for their API, more than the {maxFailedCalls} allowed (maxFailedCalls); the last: {e.Message}", e);
            return new ProviderAnswer(null, failed);
        }
        finally
        {
            budget?.Settle(reserved, spent);
        }
    }

    /// <summary>The most one iteration can cost (<see cref="RoutedTaskExecutor.WorstCase"/>).</summary>
    public double WorstCaseCost(RoutingDecision decision) => WorstCaseCosts(decision).Total;

    private RoutedTaskCost WorstCaseCosts(RoutingDecision decision) =>
        RoutedTaskExecutor.WorstCase(decision.Task, decision.Action, providers.Settings(decision.Action.Provider), providers.Settings(providers.Judge), prices, judgeOutputChars);
}

/// <summary>A hard spending cap: an iteration starts only if its worst case fits in what is left, counting iterations still in flight.</summary>
public sealed class BudgetGuard(double limitUsd, double alreadySpentUsd = 0)
{
    private readonly Lock gate = new();
    private double committed = alreadySpentUsd;
    private double reserved;

    public double LimitUsd { get; } = limitUsd >= 0 ? limitUsd : throw new RoutingInputException($"The budget must not be negative (got {limitUsd}).");

    public double SpentUsd
    {
        get
        {
            lock (gate)
                return committed;
        }
    }

    /// <summary>A budget as given: a cap under a cent is not rounded to $0.01 or $0.00.</summary>
    public static string Usd(double usd) => usd.ToString("0.00####", CultureInfo.InvariantCulture);

    /// <summary>
    /// "the $X budget (spent $Y, $Z held for the calls in flight)": with calls in flight the spend alone does not explain
    /// why an iteration no longer fits, their reserved worst cases do.
    /// </summary>
    public string Describe()
    {
        lock (gate)
        {
            var held = reserved > 0 ? $", ${reserved.ToString("0.0000", CultureInfo.InvariantCulture)} held for the calls in flight" : "";
            return $"${Usd(LimitUsd)} budget (spent ${committed.ToString("0.0000", CultureInfo.InvariantCulture)}{held})";
        }
    }

    public bool TryReserve(double worstCaseUsd)
    {
        lock (gate)
        {
            if (committed + reserved + worstCaseUsd > LimitUsd)
                return false;
            reserved += worstCaseUsd;
            return true;
        }
    }

    /// <summary>True once the spend alone is past the limit: a provider billed more than the worst case reserved for it.</summary>
    public bool OverLimit
    {
        get
        {
            lock (gate)
                return committed + reserved > LimitUsd;
        }
    }

    public void Settle(double reservedUsd, double actualUsd)
    {
        lock (gate)
        {
            reserved -= reservedUsd;
            committed += actualUsd;
        }
    }
}
