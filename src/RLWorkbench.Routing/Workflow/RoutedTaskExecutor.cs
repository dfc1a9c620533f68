using Microsoft.Extensions.AI;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Workflow;

/// <summary>One provider call's answer: null text when the answer was not valid for the provider's API (the call still counts).</summary>
public readonly record struct ProviderAnswer(string? Text, CallRecord Record);

/// <summary>What routing one task produced: the agent's output, the judge's verdict, both calls and the composite reward.</summary>
public readonly record struct RoutedTaskResult(string Output, JudgeVerdict Verdict, CallRecord Agent, CallRecord Judge, double RawReward);

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
        (call ?? SendAsync)(action.Provider,
            [new ChatMessage(ChatRole.System, AgentPrompts.SystemPrompt(action.Agent)), new ChatMessage(ChatRole.User, AgentPrompts.UserMessage(task))],
            new CallContext(iteration, CallPurpose.Agent, action.Provider, action.Agent, task.Type, task.Id), cancellationToken);

    /// <summary>Both calls and the reward.</summary>
    public async Task<RoutedTaskResult> ExecuteAsync(int iteration, RoutingTask task, RoutingAction action, ProviderCall? call = null, CancellationToken cancellationToken = default)
    {
        var agent = await AgentAsync(iteration, task, action, call, cancellationToken);
        return await JudgeAsync(iteration, task, action, agent, call, cancellationToken);
    }

    /// <summary>The judge's call on the agent's answer and the reward; a judge answer not valid for its API scores like a parse failure.</summary>
    public async Task<RoutedTaskResult> JudgeAsync(int iteration, RoutingTask task, RoutingAction action, ProviderAnswer agent, ProviderCall? call, CancellationToken cancellationToken)
    {
        var output = agent.Text ?? "";
        var judge = await (call ?? SendAsync)(providers.Judge,
            [new ChatMessage(ChatRole.System, JudgePrompt.SystemPrompt), new ChatMessage(ChatRole.User, JudgePrompt.UserMessage(task, action.Agent, output, judgeOutputChars))],
            new CallContext(iteration, CallPurpose.Judge, providers.Judge, action.Agent, task.Type, task.Id, action.Provider), cancellationToken);
        var verdict = judge.Text is null ? JudgeVerdict.Failed("the judge's answer was not valid for its API") : JudgePrompt.Parse(judge.Text);
        return new RoutedTaskResult(output, verdict, agent.Record, judge.Record, reward.Compute(verdict, agent.Record.CostUsd, agent.Record.LatencySeconds));
    }

    /// <summary>
    /// The most routing one task can cost, for every caller that budgets (qlearn's cap and up-front estimate, the comparison's
    /// live cap): prompts at three characters a token (tokenisers rarely do worse on English) and every allowed output token,
    /// for the agent and for the judge reading a full-length answer. It lives with the prompts it estimates.
    /// </summary>
    public static RoutedTaskCost WorstCase(RoutingTask task, RoutingAction action, ProviderSettings agent, ProviderSettings judge, PriceTable prices, int judgeOutputChars)
    {
        var agentInput = (AgentPrompts.SystemPrompt(action.Agent).Length + AgentPrompts.UserMessage(task).Length) / 3 + 16;
        var judgeInput = (JudgePrompt.SystemPrompt.Length + JudgePrompt.UserMessage(task, action.Agent, "").Length + judgeOutputChars) / 3 + 16;
        return new RoutedTaskCost(prices.Cost(agent.Model, agentInput, agent.MaxOutputTokens), prices.Cost(judge.Model, judgeInput, judge.MaxOutputTokens));
    }
}
