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
        Assert.Equal(new RewardVector(result.Verdict.Quality, 0.001, 2.5, 0), result.Vector);
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

    private static readonly RoutingChain ThreeSteps = RoutingChain.Parse("researcher/openai>analyst/anthropic>validator/openai");

    [Fact]
    public async Task A_three_step_chain_sends_each_step_the_previous_answer_then_judges_the_last_and_rewards_the_summed_cost_and_latency()
    {
        var sent = new List<(Provider Provider, CallContext Context, string System, string User)>();
        Task<ProviderAnswer> Call(Provider provider, IList<ChatMessage> messages, CallContext context, CancellationToken _)
        {
            sent.Add((provider, context, messages[0].Text, messages[1].Text));
            return Task.FromResult(context.Purpose == CallPurpose.Agent
                ? new ProviderAnswer($"answer {context.Step + 1}", Record(context, 0.0002 * (context.Step + 1), 0.5 * (context.Step + 1)))
                : new ProviderAnswer("""{"relevance": 0.9, "accuracy": 0.8, "completeness": 0.7, "agent_match": 0.6, "reasoning": "ok"}""", Record(context, 0.01, 10)));
        }

        var result = await Executor(JudgePrompt.DefaultOutputChars).ExecuteChainAsync(3, Task1, ThreeSteps, Call, CancellationToken.None);

        Assert.Equal([Provider.OpenAI, Provider.Anthropic, Provider.OpenAI, Provider.Anthropic], sent.Select(s => s.Provider));
        Assert.Equal(new CallContext(3, CallPurpose.Agent, Provider.OpenAI, AgentRole.Researcher, TaskType.Analysis, "t1", Step: 0, Chain: ThreeSteps), sent[0].Context);
        Assert.Equal(new CallContext(3, CallPurpose.Agent, Provider.Anthropic, AgentRole.Analyst, TaskType.Analysis, "t1", Step: 1, Chain: ThreeSteps), sent[1].Context);
        Assert.Equal(new CallContext(3, CallPurpose.Agent, Provider.OpenAI, AgentRole.Validator, TaskType.Analysis, "t1", Step: 2, Chain: ThreeSteps), sent[2].Context);
        Assert.Equal(new CallContext(3, CallPurpose.Judge, Provider.Anthropic, AgentRole.Validator, TaskType.Analysis, "t1", Provider.OpenAI, Chain: ThreeSteps), sent[3].Context);
        Assert.Equal(AgentPrompts.SystemPrompt(AgentRole.Analyst), sent[1].System);
        Assert.Equal(AgentPrompts.UserMessage(Task1), sent[0].User);
        Assert.Equal(AgentPrompts.HandoffMessage(Task1, AgentRole.Researcher, "answer 1"), sent[1].User);
        Assert.Contains("(researcher) answered:\n---\nanswer 1\n---", sent[1].User);
        Assert.Contains("(analyst) answered:\n---\nanswer 2\n---", sent[2].User);
        Assert.Contains("Agent role: validator", sent[3].User);
        Assert.Contains("---\nanswer 3\n---", sent[3].User.ReplaceLineEndings("\n"));
        Assert.Equal(["answer 1", "answer 2", "answer 3"], result.Steps.Select(s => s.Output));
        Assert.Equal("answer 3", result.Output);
        Assert.Equal(4, result.Calls.Count);
        Assert.Equal(0.0012, result.AgentCostUsd, 15);
        Assert.Equal(3.0, result.AgentLatencySeconds, 15);
        // 0.75 - 0.10 x (0.0012 / 0.002) - 0.05 x (3 / 5): the chain's three agent calls, not the judge's.
        Assert.Equal(0.66, result.RawReward, 12);
        // The vector keeps what the reward mixed: the last answer's quality, the three agent calls' cost and latency, no judge.
        Assert.Equal(0.75, result.Vector.Quality, 12);
        Assert.Equal(0.0012, result.Vector.CostUsd, 15);
        Assert.Equal(3.0, result.Vector.LatencySeconds, 15);
        Assert.Equal(0.0, result.Vector.Fairness);
    }

    [Fact]
    public async Task A_single_step_chain_makes_exactly_the_single_agent_calls_and_reward()
    {
        var single = new List<(CallContext Context, string User)>();
        var chained = new List<(CallContext Context, string User)>();
        Func<Provider, IList<ChatMessage>, CallContext, CancellationToken, Task<ProviderAnswer>> Into(List<(CallContext, string)> sent) => (provider, messages, context, _) =>
        {
            sent.Add((context, messages[0].Text + messages[1].Text));
            return Task.FromResult(context.Purpose == CallPurpose.Agent
                ? new ProviderAnswer("x", Record(context, 0.0007, 1.7))
                : new ProviderAnswer("""{"relevance": 0.9, "accuracy": 0.8, "completeness": 0.7, "agent_match": 0.6}""", Record(context, 0.01, 10)));
        };
        var action = new RoutingAction(AgentRole.Coder, Provider.Anthropic);

        var a = await Executor(50).ExecuteAsync(2, Task1, action, new ProviderCall(Into(single)));
        var b = await Executor(50).ExecuteChainAsync(2, Task1, RoutingChain.Single(action), new ProviderCall(Into(chained)), CancellationToken.None);

        Assert.Equal(single, chained);
        Assert.Null(chained[0].Context.Chain);
        Assert.Equal(a.RawReward, b.RawReward);
        Assert.Equal(a, b.AsSingle());
    }

    [Fact]
    public async Task A_failure_at_step_two_surfaces_with_the_first_steps_record_for_the_caller()
    {
        var judged = false;
        Task<ProviderAnswer> Call(Provider provider, IList<ChatMessage> messages, CallContext context, CancellationToken _)
        {
            judged |= context.Purpose == CallPurpose.Judge;
            return context.Step == 1
                ? throw new ProviderCallException(provider, ProviderFailure.ServerError, "anthropic answered 503 three times.")
                : Task.FromResult(new ProviderAnswer("first", Record(context, 0.0003, 1.2)));
        }

        var e = await Assert.ThrowsAsync<ChainInterruptedException>(() => Executor(JudgePrompt.DefaultOutputChars).ExecuteChainAsync(5, Task1, ThreeSteps, Call, CancellationToken.None));

        Assert.False(judged);
        Assert.Equal(1, e.FailedStep);
        Assert.Equal(0.0003, Assert.Single(e.Completed).CostUsd, 15);
        Assert.Equal(0.0003, e.CompletedCostUsd, 15);
        Assert.IsType<ProviderCallException>(e.InnerException);
        Assert.Equal("The chain 'researcher/openai>analyst/anthropic>validator/openai' failed at step 2 (analyst/anthropic): anthropic answered 503 three times.", e.Message);
    }

    [Fact]
    public void A_chains_worst_case_is_each_steps_with_the_previous_answer_at_full_length_plus_the_judges()
    {
        var settings = new Dictionary<Provider, ProviderSettings>
        {
            [Provider.OpenAI] = new() { Model = "gpt-4o-mini", MaxOutputTokens = 500 },
            [Provider.Anthropic] = new() { Model = "claude-3-5-haiku-latest", MaxOutputTokens = 300 },
        };
        var prices = PriceTable.Default;
        var chain = RoutingChain.Parse("coder/anthropic>validator/openai");

        var worst = RoutedTaskExecutor.WorstCase(Task1, chain, p => settings[p], settings[Provider.OpenAI], prices, 2000);
        var single = RoutedTaskExecutor.WorstCase(Task1, chain.First, settings[Provider.Anthropic], settings[Provider.OpenAI], prices, 2000);

        Assert.Equal(single.Agent, worst.Steps[0]);
        var secondInput = (AgentPrompts.SystemPrompt(AgentRole.Validator).Length + AgentPrompts.HandoffMessage(Task1, AgentRole.Coder, "").Length) / 3 + 16 + 300;
        Assert.Equal(prices.Cost("gpt-4o-mini", secondInput, 500), worst.Steps[1]);
        var judgeInput = (JudgePrompt.SystemPrompt.Length + JudgePrompt.UserMessage(Task1, AgentRole.Validator, "").Length + 2000) / 3 + 16;
        Assert.Equal(prices.Cost("gpt-4o-mini", judgeInput, 500), worst.Judge);
        Assert.Equal(worst.Steps[0] + worst.Steps[1] + worst.Judge, worst.Total, 15);
    }
}
