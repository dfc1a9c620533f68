using Microsoft.Extensions.AI;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Routing.Tests;

public class ExecutorTests
{
    private static readonly RoutingTask Task1 = new("t1", "Compare two sorting algorithms.", TaskType.Analysis, 0.5, 0.5);

    private static CallRecord Record(CallContext context, double cost, double latency) =>
        new(context.Iteration, context.Purpose.ToString(), context.Provider.Name(), "m", null, 10, 10, true, latency, cost, DateTimeOffset.UnixEpoch);

    private static RoutedTaskExecutor Executor(int judgeOutputChars) =>
        new(new ChatProviders(new Dictionary<Provider, IChatClient>(), new Dictionary<Provider, ProviderSettings>(), Provider.Anthropic),
            new CompositeReward(new RewardOptions()), judgeOutputChars);

    [Fact]
    public async Task A_routed_task_asks_the_agent_then_the_judge_on_its_truncated_answer_and_rewards_the_agent_call_only()
    {
        var sent = new List<(Provider Provider, CallContext Context, string User)>();
        Task<ProviderAnswer> Call(Provider provider, IList<ChatMessage> messages, CallContext context, CancellationToken _)
        {
            sent.Add((provider, context, messages[1].Text));
            return Task.FromResult(context.Purpose == CallPurpose.Agent
                ? new ProviderAnswer("abcdefghij", Record(context, 0.001, 2.5))
                : new ProviderAnswer("""{"relevance": 1, "accuracy": 1, "completeness": 1, "agent_match": 0.6, "reasoning": "ok"}""", Record(context, 0.01, 10)));
        }

        var result = await Executor(judgeOutputChars: 5).ExecuteAsync(7, Task1, new RoutingAction(AgentRole.Analyst, Provider.OpenAI), Call);

        Assert.Equal([Provider.OpenAI, Provider.Anthropic], sent.Select(s => s.Provider));
        Assert.Equal(new CallContext(7, CallPurpose.Agent, Provider.OpenAI, AgentRole.Analyst, TaskType.Analysis, "t1"), sent[0].Context);
        Assert.Equal(new CallContext(7, CallPurpose.Judge, Provider.Anthropic, AgentRole.Analyst, TaskType.Analysis, "t1", Provider.OpenAI), sent[1].Context);
        Assert.Contains("---\nabcde\n---", sent[1].User.ReplaceLineEndings("\n"));
        Assert.Equal("abcdefghij", result.Output);
        Assert.Equal(0.9, result.Verdict.Quality, 12);
        // 0.9 - 0.10 x (0.001 / 0.002) - 0.05 x (2.5 / 5): the judge's cost and latency are not the choice's.
        Assert.Equal(0.825, result.RawReward, 12);
    }

    [Fact]
    public async Task A_judge_answer_not_valid_for_its_API_scores_as_a_parse_failure()
    {
        Task<ProviderAnswer> Call(Provider provider, IList<ChatMessage> messages, CallContext context, CancellationToken _) =>
            Task.FromResult(new ProviderAnswer(null, Record(context, 0, 0)));

        var result = await Executor(JudgePrompt.DefaultOutputChars).ExecuteAsync(0, Task1, new RoutingAction(AgentRole.Coder, Provider.Anthropic), Call);

        Assert.Equal("", result.Output);
        Assert.True(result.Verdict.ParseFailure);
        Assert.Equal("the judge's answer was not valid for its API", result.Verdict.Reasoning);
        Assert.Equal(0.5, result.RawReward, 12);
    }
}
