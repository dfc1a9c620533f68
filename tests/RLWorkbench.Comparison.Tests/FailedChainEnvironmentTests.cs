using Microsoft.Extensions.AI;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Comparison.Tests;

/// <summary>RoutingEnvironment.Route when a provider fails a chain part-way: a failed task the run survives, up to maxFailedTasks.</summary>
public sealed class FailedChainEnvironmentTests
{
    /// <summary>The researcher on OpenAI hands over to the coder on Anthropic; the coder alone is the single step.</summary>
    private static readonly RoutingChain[] Chains = [RoutingChain.Parse("researcher/openai>coder/anthropic"), RoutingChain.Parse("coder/anthropic")];

    private const int Chain = 0;
    private const int SingleStep = 1;

    /// <summary>The simulated providers, but Anthropic refuses its first calls with an error no retry repairs.</summary>
    private sealed class RefusingAnthropic(RoutingProblem problem, long seed, int refusals) : IRoutingBackend
    {
        private readonly SimulatedRoutingBackend inner = new(problem, seed);
        private readonly Refusing anthropic = new(new SimulatedRoutingBackend(problem, seed).Client(Provider.Anthropic), refusals);

        public IChatClient Client(Provider provider) => provider == Provider.Anthropic ? anthropic : inner.Client(provider);

        public void Dispose()
        {
            inner.Dispose();
            anthropic.Dispose();
        }
    }

    private sealed class Refusing(IChatClient inner, int refusals) : DelegatingChatClient(inner)
    {
        private int calls;

        public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            ++calls <= refusals
                ? throw new ProviderCallException(Provider.Anthropic, ProviderFailure.Unauthorized, "anthropic refused the key (HTTP 401).")
                : base.GetResponseAsync(messages, options, cancellationToken);
    }

    private static RoutingEnvironment Environment(int refusals, int maxFailedTasks = RoutingEnvironmentOptions.DefaultMaxFailedTasks) =>
        new(ChainBaselineTests.ChainProblem(Chains), (problem, seed) => new RefusingAnthropic(problem, seed, refusals), seed: 5,
            new RoutingEnvironmentOptions { MaxFailedTasks = maxFailedTasks });

    [Fact]
    public void A_chain_failed_at_its_second_step_pays_0_bills_the_first_step_records_the_chain_and_draws_the_next_task()
    {
        using var failing = Environment(refusals: 2);
        using var answered = Environment(refusals: 0);

        var failed = failing.Route(Chain);
        var routed = answered.Route(Chain);
        Assert.Equal((0.0, 0.0, 0.0), (failed.RawReward, failed.AdjustedReward, failed.JudgeCostUsd));
        // The researcher's call answered and was billed, the coder's was refused: 2 LLM calls, the researcher's dollars only.
        Assert.Equal((1, 2L), (failing.FailedTasks, failing.LlmCalls));
        Assert.True(failed.AgentCostUsd > 0);
        Assert.Equal(failed.AgentCostUsd, failing.DollarsSpent);
        Assert.True(failed.AgentCostUsd < routed.AgentCostUsd);
        // The chain is in the load window and the next task is the one an answered task leaves next.
        Assert.Equal(answered.LoadTracker.LifetimeCounts, failing.LoadTracker.LifetimeCounts);
        Assert.Equal(answered.CurrentTask, failing.CurrentTask);

        failing.Route(Chain);
        Assert.Equal((2, 4L), (failing.FailedTasks, failing.LlmCalls));
        // Anthropic answers again: a whole task, 2 steps and the judge.
        Assert.True(failing.Route(Chain).RawReward > 0);
        Assert.Equal((2, 7L, 0), (failing.FailedTasks, failing.LlmCalls, failing.RateLimitedTasks));
    }

    [Fact]
    public void A_single_steps_failure_still_ends_the_run_and_counts_no_failed_task()
    {
        using var env = Environment(refusals: 1);
        var e = Assert.Throws<ProviderCallException>(() => env.Route(SingleStep));
        Assert.Equal("anthropic refused the key (HTTP 401).", e.Message);
        Assert.Equal((0, 0L), (env.FailedTasks, env.LlmCalls));
    }

    [Fact]
    public void One_failed_chain_more_than_maxFailedTasks_ends_the_run_with_its_calls_counted()
    {
        using var env = Environment(refusals: 2, maxFailedTasks: 1);
        env.Route(Chain);
        var e = Assert.Throws<ProviderCallException>(() => env.Route(Chain));
        Assert.StartsWith("2 tasks failed part-way through a chain, more than the 1 allowed (maxFailedTasks); the last: The chain 'researcher/openai>coder/anthropic' failed at step 2 (coder/anthropic): anthropic refused the key (HTTP 401).", e.Message);
        Assert.Equal((Provider.Anthropic, ProviderFailure.Unauthorized), (e.Provider, e.Failure));
        Assert.Equal((1, 4L), (env.FailedTasks, env.LlmCalls));
    }
}
