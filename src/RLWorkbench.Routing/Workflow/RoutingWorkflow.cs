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

        async Task RunOne(int iteration, RoutingDecision decision, WorstCase reserved)
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
            inFlight.Add(RunOne(i, decision, budget is null ? WorstCase.None : worstCase));
        }
        await Task.WhenAll(inFlight);
        if (stop is { } s)
            return new WorkflowOutcome(s.Reason, done, s.Message);
        if (cancellationToken.IsCancellationRequested)
            return new WorkflowOutcome(StopReason.Cancelled, done, "stopped by the user");
        return new WorkflowOutcome(StopReason.Completed, done, null);
    }

    /// <summary>One iteration's two calls; null when it was stopped between them (the budget no longer fits the judge call).</summary>
    private async Task<(string Output, JudgeVerdict Verdict, CallRecord Agent, CallRecord Judge, double RawReward)?> ExecuteAsync(
        int iteration, RoutingDecision decision, WorstCase reserved, Action<StopReason, string?, bool> stopWith, CancellationToken cancellationToken)
    {
        var task = decision.Task;
        var action = decision.Action;
        var judgeReserved = reserved.Judge;
        try
        {
            var agentContext = new CallContext(iteration, CallPurpose.Agent, action.Provider, action.Agent, task.Type, task.Id);
            var agent = await CallAsync(action.Provider, reserved.Agent,
                [new ChatMessage(ChatRole.System, AgentPrompts.SystemPrompt(action.Agent)), new ChatMessage(ChatRole.User, AgentPrompts.UserMessage(task))],
                agentContext, cancellationToken);
            var output = agent.Text ?? "";
            if (budget is not null && budget.OverLimit)
            {
                stopWith(StopReason.Budget, $"stopped before the judge call of iteration {iteration + 1}: the spend (${budget.SpentUsd:0.0000}) is past the ${BudgetGuard.Usd(budget.LimitUsd)} budget because a provider billed more than its worst case.", false);
                return null;
            }

            var judgeContext = new CallContext(iteration, CallPurpose.Judge, providers.Judge, action.Agent, task.Type, task.Id, action.Provider);
            judgeReserved = 0;
            var judge = await CallAsync(providers.Judge, reserved.Judge,
                [new ChatMessage(ChatRole.System, JudgePrompt.SystemPrompt), new ChatMessage(ChatRole.User, JudgePrompt.UserMessage(task, action.Agent, output, judgeOutputChars))],
                judgeContext, cancellationToken);
            var verdict = judge.Text is null ? JudgeVerdict.Failed("the judge's answer was not valid for its API") : JudgePrompt.Parse(judge.Text);
            return (output, verdict, agent.Record, judge.Record, reward.Compute(verdict, agent.Record.CostUsd, agent.Record.LatencySeconds));
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
    private async Task<(string? Text, CallRecord Record)> CallAsync(
        Provider provider, double reserved, IList<ChatMessage> messages, CallContext context, CancellationToken cancellationToken)
    {
        var spent = 0.0;
        try
        {
            var response = await providers.Client(provider).GetResponseAsync(messages, context.Attach(providers.OptionsFor(provider)), cancellationToken);
            var record = CallRecord.Of(response);
            spent = record.CostUsd;
            var max = providers.Settings(provider).MaxOutputTokens;
            if (record.OutputTokens > max)
                notice?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"{provider.Name()} reported {record.OutputTokens} output tokens for iteration {context.Iteration + 1}'s {context.Purpose.ToString().ToLowerInvariant()} call, more than max_tokens {max}; recorded at the real cost ${record.CostUsd:0.0000}."));
            return (response.Text, record);
        }
        catch (ProviderCallException e) when (e.Failure == ProviderFailure.MalformedResponse && e.Call is { } failed)
        {
            spent = failed.CostUsd;
            var count = Interlocked.Increment(ref failedCalls);
            notice?.Invoke($"{e.Message} Counted as failed call {count} of at most {maxFailedCalls}.");
            if (count > maxFailedCalls)
                throw new ProviderCallException(provider, e.Failure, $"{count} calls got answers that are not valid for their API, more than the {maxFailedCalls} allowed (maxFailedCalls); the last: {e.Message}", e);
            return (null, failed);
        }
        finally
        {
            budget?.Settle(reserved, spent);
        }
    }

    /// <summary>
    /// The most one iteration can cost: prompts at three characters a token (tokenisers rarely do worse on English) and every
    /// allowed output token, for the agent and for the judge reading a full-length answer.
    /// </summary>
    public double WorstCaseCost(RoutingDecision decision) => WorstCaseCosts(decision).Total;

    private WorstCase WorstCaseCosts(RoutingDecision decision) =>
        WorstCaseCosts(decision.Task, decision.Action, providers.Settings(decision.Action.Provider), providers.Settings(providers.Judge), prices, judgeOutputChars);

    /// <summary>The same worst case for any caller that routes one task (the comparison's live budget uses it too).</summary>
    public static double WorstCaseCost(RoutingTask task, RoutingAction action, ProviderSettings agent, ProviderSettings judge, PriceTable prices, int judgeOutputChars) =>
        WorstCaseCosts(task, action, agent, judge, prices, judgeOutputChars).Total;

    private static WorstCase WorstCaseCosts(RoutingTask task, RoutingAction action, ProviderSettings agent, ProviderSettings judge, PriceTable prices, int judgeOutputChars)
    {
        var agentInput = (AgentPrompts.SystemPrompt(action.Agent).Length + AgentPrompts.UserMessage(task).Length) / 3 + 16;
        var judgeInput = (JudgePrompt.SystemPrompt.Length + JudgePrompt.UserMessage(task, action.Agent, "").Length + judgeOutputChars) / 3 + 16;
        return new WorstCase(prices.Cost(agent.Model, agentInput, agent.MaxOutputTokens), prices.Cost(judge.Model, judgeInput, judge.MaxOutputTokens));
    }

    private readonly record struct WorstCase(double Agent, double Judge)
    {
        public static WorstCase None => default;

        public double Total => Agent + Judge;
    }
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
