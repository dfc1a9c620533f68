using RLWorkbench.Comparison;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Comparison.Tests;

public sealed class ExactRewardModelTests
{
    [Theory]
    [InlineData(0.0, 0.5)]
    [InlineData(1.0, 0.841344746068542948)]
    [InlineData(-1.959963984540054, 0.025)]
    [InlineData(-3.0, 0.00134989803163009452)]
    [InlineData(-6.0, 9.86587645037698e-10)]
    [InlineData(2.5, 0.99379033467422384)]
    public void Normal_cdf_matches_tabulated_values(double z, double expected) =>
        Assert.Equal(expected, Normal.Cdf(z), 1e-14);

    [Fact]
    public void Erfc_is_accurate_in_the_far_tail() =>
        Assert.Equal(1.5374597944280349e-12, Normal.Erfc(5.0), 1e-24);

    [Fact]
    public void Zero_spreads_give_the_reward_worked_out_by_hand()
    {
        // Every score fixed: matching role 0.9, others 0.4; 400 output tokens, 2 s latency, no format errors.
        var problem = Problems.FromProfile(Problems.Profile(spread: 0, latencySpread: 0, tokenSpread: 0, anthropicBonus: 0));
        var model = new ExactRewardModel(problem);
        var taskIndex = Enumerable.Range(0, problem.Bank.Count).First(i => problem.Bank[i].Type == TaskType.Coding);
        var task = problem.Bank[taskIndex];
        var coderOpenAi = new RoutingAction(AgentRole.Coder, Provider.OpenAI).Index;
        var input = SimulatedChatClient.EstimateTokens(AgentPrompts.SystemPrompt(AgentRole.Coder)) + SimulatedChatClient.EstimateTokens(AgentPrompts.UserMessage(task));
        // gpt-4o-mini: $0.15 / $0.60 per million tokens.
        var cost = (input * 0.15 + 400 * 0.60) / 1e6;
        var expected = 0.9 - 0.10 * (cost / 0.002) - 0.05 * (2.0 / 5.0);
        Assert.Equal(expected, model.ExpectedForTask(taskIndex, coderOpenAi), 1e-12);

        // claude-3-5-haiku: $0.80 / $4.00; 400 output tokens cost $0.0016 + input, so the cost term is near its cap.
        var coderAnthropic = new RoutingAction(AgentRole.Coder, Provider.Anthropic).Index;
        var anthropicCost = (input * 0.80 + 400 * 4.00) / 1e6;
        Assert.Equal(0.9 - 0.10 * Math.Min(anthropicCost / 0.002, 1) - 0.05 * 0.4, model.ExpectedForTask(taskIndex, coderAnthropic), 1e-12);

        // A penalty larger than the reward clips at zero instead of going negative.
        Assert.Equal(0.0, model.ExpectedForTask(taskIndex, coderOpenAi, penalty: 0.95), 1e-12);
    }

    [Fact]
    public void Format_errors_mix_in_the_half_score_fallback()
    {
        var problem = Problems.FromProfile(Problems.Profile(spread: 0, latencySpread: 0, tokenSpread: 0, anthropicBonus: 0, formatErrors: 0.25));
        var clean = new ExactRewardModel(Problems.FromProfile(Problems.Profile(spread: 0, latencySpread: 0, tokenSpread: 0, anthropicBonus: 0)));
        var model = new ExactRewardModel(problem);
        var a = new RoutingAction(AgentRole.Coder, Provider.OpenAI).Index;
        var t = Enumerable.Range(0, problem.Bank.Count).First(i => problem.Bank[i].Type == TaskType.Coding);
        // Same cost and latency terms; quality 0.9 with probability 0.75 and 0.5 with 0.25.
        Assert.Equal(clean.ExpectedForTask(t, a) - 0.25 * (0.9 - 0.5), model.ExpectedForTask(t, a), 1e-12);
    }

    [Fact]
    public void Score_law_puts_the_clipped_tails_on_the_ends()
    {
        var law = ExactRewardModel.ScoreLaw(new NormalVariable(1.0, 0.1));
        Assert.Equal(1.0, law.Sum(), 1e-12);
        // Half the mass is above 1 and clips to 1; round(x, 2) = 1 also takes (0.995, 1].
        Assert.Equal(Normal.Survival(-0.05), law[100], 1e-12);
        Assert.Equal(Normal.Cdf(-0.05) - Normal.Cdf(-0.15), law[99], 1e-12);
    }

    [Fact]
    public void The_clip_at_zero_is_counted_where_it_binds()
    {
        // Quality near 0.05 with wide spreads: the reward is often clipped at 0, so E[max(0, Y)] must exceed E[Y].
        var problem = Problems.FromProfile(Problems.Profile(good: 0.05, poor: 0.05, spread: 0.1, anthropicBonus: 0));
        var model = new ExactRewardModel(problem);
        var value = model.Expected(0, 0);
        Assert.InRange(value, 0.01, 0.2);
        var mc = MonteCarlo(problem, action: 0, type: TaskType.Analysis, samples: 20_000);
        Assert.True(Math.Abs(mc.Mean - value) < 4 * mc.StandardError + 1e-4, $"exact {value}, simulated {mc.Mean} +- {mc.StandardError}");
    }

    [Theory]
    [InlineData(12, false)]
    [InlineData(13, true)]
    [InlineData(1, false)]
    public void The_exact_value_agrees_with_the_simulated_backend(int actionIndexTimesTypeSeed, bool anthropicHeavy)
    {
        // The default profile, through the real simulated client, judge parser and composite reward: the exact model must
        // be within sampling error, or it has drifted from the generative process it claims to follow.
        var problem = Problems.Default();
        var model = new ExactRewardModel(problem);
        var action = anthropicHeavy ? new RoutingAction(AgentRole.Coder, Provider.Anthropic).Index : actionIndexTimesTypeSeed % 8;
        var type = anthropicHeavy ? TaskType.Coding : RoutingNames.TaskTypes[actionIndexTimesTypeSeed % 4];
        var mc = MonteCarlo(problem, action, type, samples: 6_000);
        var exact = model.Expected((int)type, action);
        Assert.True(Math.Abs(mc.Mean - exact) < 4 * mc.StandardError, $"exact {exact}, simulated {mc.Mean} +- {mc.StandardError}");
    }

    private static (double Mean, double StandardError) MonteCarlo(RoutingProblem problem, int action, TaskType type, int samples)
    {
        using var env = new RoutingEnvironment(problem, SimulatedRoutingBackend.Factory, seed: 7);
        env.Reset(7, new float[problem.ObservationSize]);
        var rewards = new List<double>();
        while (rewards.Count < samples)
        {
            // Tasks of other types are routed too (they advance the stream) but not counted.
            var isType = env.CurrentTask.Type == type;
            var step = env.Route(action);
            if (isType)
                rewards.Add(step.RawReward);
        }
        var mean = rewards.Average();
        var sd = Math.Sqrt(rewards.Sum(r => (r - mean) * (r - mean)) / (rewards.Count - 1));
        return (mean, sd / Math.Sqrt(rewards.Count));
    }
}
