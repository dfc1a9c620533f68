using Microsoft.Extensions.AI;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Workflow;

/// <summary>One provider call's answer: null text when the answer was not valid for the provider's API (the call still counts).</summary>
public readonly record struct ProviderAnswer(string? Text, CallRecord Record);

/// <summary>What routing one task produced: the agent's output, the judge's verdict, both calls and the composite reward.</summary>
public readonly record struct RoutedTaskResult(string Output, JudgeVerdict Verdict, CallRecord Agent, CallRecord Judge, double RawReward)
{
    /// <summary>Quality, cost and latency of the task kept apart; fairness is 0 until the caller reads the load penalty.</summary>
    public RewardVector Vector => RewardVector.Of(Verdict, [Agent], 0);
}

/// <summary>One step of a routed chain: which (agent, provider) ran it, its answer ("" when not valid for the API) and its call.</summary>
public readonly record struct ChainStepResult(RoutingAction Step, string Output, CallRecord Record);

/// <summary>
/// What routing one task through a chain produced: every step's answer and call in order, the judge's verdict on the last
/// answer and its call, and the composite reward on the chain's summed agent cost and summed agent latency.
/// </summary>
public sealed record RoutedChainResult(RoutingChain Chain, IReadOnlyList<ChainStepResult> Steps, JudgeVerdict Verdict, CallRecord Judge, double RawReward)
{
    public string Output => Steps[^1].Output;

    public double AgentCostUsd => Steps.Sum(s => s.Record.CostUsd);

    public double AgentLatencySeconds => Steps.Sum(s => s.Record.LatencySeconds);

    /// <summary>Quality, the steps' summed cost and latency kept apart; fairness is 0 until the caller reads the load penalty.</summary>
    public RewardVector Vector => RewardVector.Of(Verdict, Steps.Select(s => s.Record), 0);

    /// <summary>Every call of the chain in the order it was sent, the judge's last.</summary>
    public IReadOnlyList<CallRecord> Calls => [.. Steps.Select(s => s.Record), Judge];

    /// <summary>A single-step result in the shape the single-agent callers use.</summary>
    public RoutedTaskResult AsSingle() => new(Output, Verdict, Steps[0].Record, Judge, RawReward);
}

/// <summary>
/// A call of a multi-step chain failed: <see cref="Completed"/> holds the records of the calls already made (and the failed
/// call's own record when the provider answered unusably), so the caller can record them and their cost and count the task
/// as failed without losing the run. The original failure is the inner exception.
/// </summary>
public sealed class ChainInterruptedException(RoutingChain chain, int failedStep, IReadOnlyList<CallRecord> completed, Exception inner)
    : Exception($"The chain '{chain.Label}' failed at {(failedStep < chain.Length ? $"step {failedStep + 1} ({chain.Steps[failedStep].Label})" : "the judge's call")}: {inner.Message}", inner)
{
    public RoutingChain Chain { get; } = chain;

    /// <summary>0-based step that failed; the chain's length means the judge's call.</summary>
    public int FailedStep { get; } = failedStep;

    public IReadOnlyList<CallRecord> Completed { get; } = completed;

    public double CompletedCostUsd => Completed.Sum(c => c.CostUsd);
}

/// <summary>What a routed chain's calls could cost at most, in USD: each step's, then the judge's.</summary>
public sealed record RoutedChainCost(IReadOnlyList<double> Steps, double Judge)
{
    public double Agent => Steps.Sum();

    public double Total => Agent + Judge;
}

/// <summary>What a routed task's two calls cost (or could cost at most), in USD.</summary>
public readonly record struct RoutedTaskCost(double Agent, double Judge)
{
    public static RoutedTaskCost None => default;

    public double Total => Agent + Judge;
}

/// <summary>
/// Sends one call: the plain one goes straight to the provider's pipeline; the qlearn workflow passes its own to settle each
/// call against its budget reservation and to count answers that are not valid for the provider's API.
/// </summary>
public delegate Task<ProviderAnswer> ProviderCall(Provider provider, IList<ChatMessage> messages, CallContext context, CancellationToken cancellationToken);

/// <summary>
/// The one path of a routed task, shared by the qlearn workflow, the production router and the comparison's environment:
/// agent prompt -> provider call -> judge prompt -> judge call -> verdict -> composite reward. What happens around it (which
/// task, which learner update, which budget) stays with the caller.
/// </summary>
public sealed class RoutedTaskExecutor(ChatProviders providers, CompositeReward reward, int judgeOutputChars = JudgePrompt.DefaultOutputChars)
{
    public ChatProviders Providers => providers;

    public int JudgeOutputChars => judgeOutputChars;

    /// <summary>The call straight to the provider's pipeline, with its model and sampling settings.</summary>
    public async Task<ProviderAnswer> SendAsync(Provider provider, IList<ChatMessage> messages, CallContext context, CancellationToken cancellationToken)
    {
        var response = await providers.Client(provider).GetResponseAsync(messages, context.Attach(providers.OptionsFor(provider)), cancellationToken);
        return new ProviderAnswer(response.Text, CallRecord.Of(response));
    }

    public Task<ProviderAnswer> AgentAsync(int iteration, RoutingTask task, RoutingAction action, ProviderCall? call, CancellationToken cancellationToken) =>
        StepAsync(iteration, task, RoutingChain.Single(action), 0, null, call, cancellationToken);

    /// <summary>
    /// Step <paramref name="step"/> (0-based) of a chain: the first gets the task, a later one the task and the previous step's
    /// answer. A single-step chain's call is exactly the single-agent call (same messages, same context).
    /// </summary>
    public Task<ProviderAnswer> StepAsync(int iteration, RoutingTask task, RoutingChain chain, int step, string? previousAnswer, ProviderCall? call, CancellationToken cancellationToken)
    {
        var action = chain.Steps[step];
        return (call ?? SendAsync)(action.Provider,
            [new ChatMessage(ChatRole.System, AgentPrompts.SystemPrompt(action.Agent)), new ChatMessage(ChatRole.User, StepMessage(task, chain, step, previousAnswer))],
            new CallContext(iteration, CallPurpose.Agent, action.Provider, action.Agent, task.Type, task.Id, Step: step, Chain: chain.Length > 1 ? chain : null), cancellationToken);
    }

    private static string StepMessage(RoutingTask task, RoutingChain chain, int step, string? previousAnswer) =>
        step == 0 ? AgentPrompts.UserMessage(task) : AgentPrompts.HandoffMessage(task, chain.Steps[step - 1].Agent, previousAnswer ?? "");

    /// <summary>Both calls and the reward.</summary>
    public async Task<RoutedTaskResult> ExecuteAsync(int iteration, RoutingTask task, RoutingAction action, ProviderCall? call = null, CancellationToken cancellationToken = default) =>
        (await ExecuteChainAsync(iteration, task, RoutingChain.Single(action), call, cancellationToken)).AsSingle();

    /// <summary>
    /// Every step of the chain in order, then the judge on the last answer, then the reward on the summed agent cost and
    /// latency. A failure of a multi-step chain's call (cancellation aside) comes back as a <see cref="ChainInterruptedException"/>
    /// carrying the calls already made; a single-step chain fails exactly as the single-agent path always did.
    /// </summary>
    public async Task<RoutedChainResult> ExecuteChainAsync(int iteration, RoutingTask task, RoutingChain chain, ProviderCall? call, CancellationToken cancellationToken)
    {
        var steps = await StepsAsync(iteration, task, chain, call, cancellationToken);
        try
        {
            return await JudgeChainAsync(iteration, task, chain, steps, call, cancellationToken);
        }
        catch (Exception e) when (chain.Length > 1 && e is not OperationCanceledException)
        {
            throw Interrupted(chain, steps, e);
        }
    }

    /// <summary>
    /// Every step of the chain in order, without the judge (route without --learn answers with the last step's output). A
    /// failure of a multi-step chain's call (cancellation aside) comes back as a <see cref="ChainInterruptedException"/>.
    /// </summary>
    public async Task<IReadOnlyList<ChainStepResult>> StepsAsync(int iteration, RoutingTask task, RoutingChain chain, ProviderCall? call, CancellationToken cancellationToken)
    {
        var steps = new List<ChainStepResult>(chain.Length);
        try
        {
            string? previous = null;
            for (var k = 0; k < chain.Length; k++)
            {
                var answer = await StepAsync(iteration, task, chain, k, previous, call, cancellationToken);
                previous = answer.Text ?? "";
                steps.Add(new ChainStepResult(chain.Steps[k], previous, answer.Record));
            }
            return steps;
        }
        catch (Exception e) when (chain.Length > 1 && e is not OperationCanceledException)
        {
            throw Interrupted(chain, steps, e);
        }
    }

    private static ChainInterruptedException Interrupted(RoutingChain chain, IReadOnlyList<ChainStepResult> steps, Exception e)
    {
        var completed = steps.Select(s => s.Record).ToList();
        if (e is ProviderCallException { Call: { } failed })
            completed.Add(failed);
        return new ChainInterruptedException(chain, steps.Count, completed, e);
    }

    /// <summary>The judge's call on the agent's answer and the reward; a judge answer not valid for its API scores like a parse failure.</summary>
    public async Task<RoutedTaskResult> JudgeAsync(int iteration, RoutingTask task, RoutingAction action, ProviderAnswer agent, ProviderCall? call, CancellationToken cancellationToken) =>
        (await JudgeChainAsync(iteration, task, RoutingChain.Single(action), [new ChainStepResult(action, agent.Text ?? "", agent.Record)], call, cancellationToken)).AsSingle();

    /// <summary>
    /// The judge's call on a chain's last answer (its prompt names the last agent) and the reward on the summed agent cost and
    /// latency; a judge answer not valid for its API scores like a parse failure.
    /// </summary>
    public async Task<RoutedChainResult> JudgeChainAsync(int iteration, RoutingTask task, RoutingChain chain, IReadOnlyList<ChainStepResult> steps, ProviderCall? call, CancellationToken cancellationToken)
    {
        var last = chain.Last;
        var output = steps[^1].Output;
        var judge = await (call ?? SendAsync)(providers.Judge,
            [new ChatMessage(ChatRole.System, JudgePrompt.SystemPrompt), new ChatMessage(ChatRole.User, JudgePrompt.UserMessage(task, last.Agent, output, judgeOutputChars))],
            new CallContext(iteration, CallPurpose.Judge, providers.Judge, last.Agent, task.Type, task.Id, last.Provider, Chain: chain.Length > 1 ? chain : null), cancellationToken);
        var verdict = judge.Text is null ? JudgeVerdict.Failed("the judge's answer was not valid for its API") : JudgePrompt.Parse(judge.Text);
        // Summed in step order so a single step's cost and latency are the very doubles the single-agent path used.
        var cost = 0.0;
        var latency = 0.0;
        foreach (var s in steps)
        {
            cost += s.Record.CostUsd;
            latency += s.Record.LatencySeconds;
        }
        return new RoutedChainResult(chain, steps, verdict, judge.Record, reward.Compute(verdict, cost, latency));
    }

    /// <summary>
    /// The most routing one task can cost, for every caller that budgets (qlearn's cap and up-front estimate, the comparison's
    /// live cap): prompts at three characters a token (tokenisers rarely do worse on English) and every allowed output token,
    /// for the agent and for the judge reading a full-length answer. It lives with the prompts it estimates.
    /// </summary>
    public static RoutedTaskCost WorstCase(RoutingTask task, RoutingAction action, ProviderSettings agent, ProviderSettings judge, PriceTable prices, int judgeOutputChars)
    {
        var chain = WorstCase(task, RoutingChain.Single(action), _ => agent, judge, prices, judgeOutputChars);
        return new RoutedTaskCost(chain.Steps[0], chain.Judge);
    }

    /// <summary>
    /// The most routing one task through a chain can cost: each step's prompts as above, a later step's also holding the
    /// previous answer at up to that provider's every allowed output token, and the judge reading a full-length last answer.
    /// </summary>
    public static RoutedChainCost WorstCase(RoutingTask task, RoutingChain chain, Func<Provider, ProviderSettings> settings, ProviderSettings judge, PriceTable prices, int judgeOutputChars)
    {
        var steps = new double[chain.Length];
        for (var k = 0; k < chain.Length; k++)
        {
            var step = chain.Steps[k];
            var s = settings(step.Provider);
            var input = (AgentPrompts.SystemPrompt(step.Agent).Length + StepMessage(task, chain, k, "").Length) / 3 + 16;
            if (k > 0)
                input += settings(chain.Steps[k - 1].Provider).MaxOutputTokens;
            steps[k] = prices.Cost(s.Model, input, s.MaxOutputTokens);
        }
        var judgeInput = (JudgePrompt.SystemPrompt.Length + JudgePrompt.UserMessage(task, chain.Last.Agent, "").Length + judgeOutputChars) / 3 + 16;
        return new RoutedChainCost(steps, prices.Cost(judge.Model, judgeInput, judge.MaxOutputTokens));
    }
}
