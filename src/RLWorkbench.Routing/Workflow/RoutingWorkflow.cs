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
}

public sealed record WorkflowOutcome(StopReason Reason, int IterationsDone, string? Message);

/// <summary>
/// The seed's loop: pick a task uniformly -> choose (agent, provider) -> agent call -> judge call -> reward (and penalty)
/// -> Q update -> epsilon decay. With concurrency K, up to K iterations are in flight; each one's decision is taken when it
/// starts and its update is applied when its judge answer returns, under one lock, so the table is never half-updated.
/// </summary>
public sealed class RoutingWorkflow(
    TaskBank bank,
    QLearningCoordinator coordinator,
    ChatProviders providers,
    CompositeReward reward,
    IRandomSource random,
    PriceTable prices,
    BudgetGuard? budget = null,
    int judgeOutputChars = JudgePrompt.DefaultOutputChars)
{
    private readonly Lock gate = new();

    public async Task<WorkflowOutcome> RunAsync(int firstIteration, int iterations, int concurrency, Action<IterationResult> onIteration, CancellationToken cancellationToken)
    {
        if (concurrency < 1)
            throw new RoutingInputException($"Concurrency must be at least 1, not {concurrency}.");
        using var stopAll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var inFlight = new List<Task>();
        var done = 0;
        (StopReason Reason, string? Message)? stop = null;

        void StopWith(StopReason reason, string? message)
        {
            lock (gate)
            {
                stop ??= (reason, message);
            }
            stopAll.Cancel();
        }

        async Task RunOne(int iteration, RoutingDecision decision, double reserved)
        {
            var spent = 0.0;
            try
            {
                var result = await ExecuteAsync(iteration, decision, cost => spent += cost, stopAll.Token);
                lock (gate)
                {
                    var nextType = RoutingNames.TaskTypes[random.Choice(RoutingNames.TaskTypes.Count)];
                    var update = coordinator.Complete(decision, result.RawReward, nextType);
                    done++;
                    onIteration(new IterationResult(iteration, decision, result.Output, result.Verdict, result.Agent, result.Judge, update));
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
            catch (OperationCanceledException) when (stopAll.IsCancellationRequested)
            {
                // Dropped: an iteration cut off by Ctrl+C or by another iteration's failure never updates the table.
            }
            finally
            {
                budget?.Settle(reserved, spent);
            }
        }

        for (var i = firstIteration; i < firstIteration + iterations; i++)
        {
            while (inFlight.Count >= concurrency)
            {
                var finished = await Task.WhenAny(inFlight);
                inFlight.Remove(finished);
            }
            if (stop is not null || stopAll.IsCancellationRequested)
                break;
            RoutingDecision decision;
            lock (gate)
            {
                var task = bank[random.Choice(bank.Count)];
                decision = coordinator.Decide(task);
            }
            var worstCase = WorstCaseCost(decision);
            if (budget is not null && !budget.TryReserve(worstCase))
            {
                StopWith(StopReason.Budget, $"stopped before iteration {i + 1}: its worst case (${worstCase:0.0000}) would take the spend past the ${budget.LimitUsd:0.00} budget (spent ${budget.SpentUsd:0.0000}).");
                break;
            }
            inFlight.Add(RunOne(i, decision, budget is null ? 0 : worstCase));
        }
        await Task.WhenAll(inFlight);
        if (stop is { } s)
            return new WorkflowOutcome(s.Reason, done, s.Message);
        if (cancellationToken.IsCancellationRequested)
            return new WorkflowOutcome(StopReason.Cancelled, done, "stopped by the user");
        return new WorkflowOutcome(StopReason.Completed, done, null);
    }

    private async Task<(string Output, JudgeVerdict Verdict, CallRecord Agent, CallRecord Judge, double RawReward)> ExecuteAsync(
        int iteration, RoutingDecision decision, Action<double> spend, CancellationToken cancellationToken)
    {
        var task = decision.Task;
        var action = decision.Action;
        var agentContext = new CallContext(iteration, CallPurpose.Agent, action.Provider, action.Agent, task.Type, task.Id);
        var agentResponse = await providers.Client(action.Provider).GetResponseAsync(
            [new ChatMessage(ChatRole.System, AgentPrompts.SystemPrompt(action.Agent)), new ChatMessage(ChatRole.User, AgentPrompts.UserMessage(task))],
            agentContext.Attach(providers.OptionsFor(action.Provider)),
            cancellationToken);
        var agentCall = CallRecord.Of(agentResponse);
        spend(agentCall.CostUsd);
        var output = agentResponse.Text;

        var judgeContext = new CallContext(iteration, CallPurpose.Judge, providers.Judge, action.Agent, task.Type, task.Id, action.Provider);
        var judgeResponse = await providers.Client(providers.Judge).GetResponseAsync(
            [new ChatMessage(ChatRole.System, JudgePrompt.SystemPrompt), new ChatMessage(ChatRole.User, JudgePrompt.UserMessage(task, action.Agent, output, judgeOutputChars))],
            judgeContext.Attach(providers.OptionsFor(providers.Judge)),
            cancellationToken);
        var judgeCall = CallRecord.Of(judgeResponse);
        spend(judgeCall.CostUsd);
        var verdict = JudgePrompt.Parse(judgeResponse.Text);
        return (output, verdict, agentCall, judgeCall, reward.Compute(verdict, agentCall.CostUsd, agentCall.LatencySeconds));
    }

    /// <summary>
    /// The most one iteration can cost: prompts at three characters a token (tokenisers rarely do worse on English) and every
    /// allowed output token, for the agent and for the judge reading a full-length answer.
    /// </summary>
    public double WorstCaseCost(RoutingDecision decision) =>
        WorstCaseCost(decision.Task, decision.Action, providers.Settings(decision.Action.Provider), providers.Settings(providers.Judge), prices, judgeOutputChars);

    /// <summary>The same worst case for any caller that routes one task (the comparison's live budget uses it too).</summary>
    public static double WorstCaseCost(RoutingTask task, RoutingAction action, ProviderSettings agent, ProviderSettings judge, PriceTable prices, int judgeOutputChars)
    {
        var agentInput = (AgentPrompts.SystemPrompt(action.Agent).Length + AgentPrompts.UserMessage(task).Length) / 3 + 16;
        var judgeInput = (JudgePrompt.SystemPrompt.Length + JudgePrompt.UserMessage(task, action.Agent, "").Length + judgeOutputChars) / 3 + 16;
        return prices.Cost(agent.Model, agentInput, agent.MaxOutputTokens) + prices.Cost(judge.Model, judgeInput, judge.MaxOutputTokens);
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

    public void Settle(double reservedUsd, double actualUsd)
    {
        lock (gate)
        {
            reserved -= reservedUsd;
            committed += actualUsd;
        }
    }
}
