using RLWorkbench.Comparison;
using RLWorkbench.Comparison.Pareto;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Comparison.Tests;

public sealed class ParetoTests
{
    private static readonly RewardWeights Weights = RewardWeights.Parse("quality=1,cost=100,latency=0.1");

    private static double InputTokens(RoutingTask task, AgentRole agent) =>
        SimulatedChatClient.EstimateTokens(AgentPrompts.SystemPrompt(agent)) + SimulatedChatClient.EstimateTokens(AgentPrompts.UserMessage(task));

    [Fact]
    public void Weighted_reward_is_the_scalarised_vector_worked_out_by_hand()
    {
        // Every score fixed at 0.9 for the matching role, 400 output tokens, 2 s latency: the weighted reward is linear and unclipped.
        var problem = Problems.FromProfile(Problems.Profile(spread: 0, latencySpread: 0, tokenSpread: 0, anthropicBonus: 0)).WithWeights(Weights);
        var model = new ExactRewardModel(problem);
        var t = Enumerable.Range(0, problem.Bank.Count).First(i => problem.Bank[i].Type == TaskType.Coding);
        var coderAnthropic = new RoutingAction(AgentRole.Coder, Provider.Anthropic).Index;
        var cost = (InputTokens(problem.Bank[t], AgentRole.Coder) * 0.80 + 400 * 4.00) / 1e6;
        Assert.Equal(0.9 - 100 * cost - 0.1 * 2.0, model.ExpectedForTask(t, coderAnthropic), 1e-12);
        // The seed's reward would cap this cost term at 0.10 and clip at 0; the weighted one goes negative for a wrong role at a high cost weight.
        var heavy = new ExactRewardModel(problem.WithWeights(RewardWeights.Parse("quality=1,cost=1000")));
        var researcherAnthropic = new RoutingAction(AgentRole.Researcher, Provider.Anthropic).Index;
        var researcherCost = (InputTokens(problem.Bank[t], AgentRole.Researcher) * 0.80 + 400 * 4.00) / 1e6;
        Assert.Equal(0.4 - 1000 * researcherCost, heavy.ExpectedForTask(t, researcherAnthropic), 1e-12);
        Assert.True(heavy.ExpectedForTask(t, researcherAnthropic) < 0);
    }

    [Fact]
    public void The_environment_pays_the_scalarised_reward_the_model_expects()
    {
        // The default profile through the simulated client and judge: the environment's reward under weights must average to the exact value.
        var problem = Problems.Default().WithWeights(Weights);
        var model = new ExactRewardModel(problem);
        var action = new RoutingAction(AgentRole.Coder, Provider.Anthropic).Index;
        using var env = new RoutingEnvironment(problem, SimulatedRoutingBackend.Factory, seed: 11);
        env.Reset(11, new float[problem.ObservationSize]);
        var rewards = new List<double>();
        while (rewards.Count < 4000)
        {
            var isCoding = env.CurrentTask.Type == TaskType.Coding;
            var step = env.Route(action);
            if (isCoding)
            {
                Assert.Equal(step.RawReward, step.AdjustedReward);
                rewards.Add(step.RawReward);
            }
        }
        var mean = rewards.Average();
        var se = Math.Sqrt(rewards.Sum(r => (r - mean) * (r - mean)) / (rewards.Count - 1) / rewards.Count);
        var exact = model.Expected((int)TaskType.Coding, action);
        Assert.True(Math.Abs(mean - exact) < 4 * se, $"exact {exact}, simulated {mean} +- {se}");
        // Without weights the same step pays the seed's reward, which is a different number here (its cost term is capped at 0.10).
        Assert.NotEqual(exact, new ExactRewardModel(Problems.Default()).Expected((int)TaskType.Coding, action), 1e-3);
    }

    [Fact]
    public void Weights_are_refused_on_the_load_balanced_and_chain_problems()
    {
        var e = Assert.Throws<ComparisonInputException>(() => Problems.Default(loadBalanced: true).WithWeights(Weights));
        Assert.Contains("base problem", e.Message);
    }

    [Fact]
    public void A_policys_objectives_are_its_mean_quality_cost_and_p95_latency()
    {
        var problem = Problems.FromProfile(Problems.Profile(spread: 0, tokenSpread: 0, anthropicBonus: 0, latencyMean: 2.0, latencySpread: 0.5));
        var objectives = new ObjectiveModel(new ExactRewardModel(problem));
        var coderOpenAi = new RoutingAction(AgentRole.Coder, Provider.OpenAI).Index;
        var o = objectives.Of(TaskPolicy.FromTypeTable(problem, [coderOpenAi, coderOpenAi, coderOpenAi, coderOpenAi]));
        // Coding tasks are 3 of the 11: 0.9 there, 0.4 elsewhere.
        Assert.Equal((3 * 0.9 + 8 * 0.4) / 11, o.Quality, 1e-12);
        var cost = problem.Bank.Tasks.Average(t => (InputTokens(t, AgentRole.Coder) * 0.15 + 400 * 0.60) / 1e6);
        Assert.Equal(cost, o.CostUsd, 1e-15);
        // One normal N(2, 0.5): its 95th percentile is 2 + 1.6448536269514722 x 0.5.
        Assert.Equal(2 + 1.6448536269514722 * 0.5, o.P95LatencySeconds, 1e-8);
    }

    [Fact]
    public void The_p95_of_a_mixture_of_providers_solves_the_mixtures_cdf()
    {
        // Default profile: openai N(2.4, 0.6), anthropic N(3.3, 0.8); a blind half-and-half rule.
        var problem = Problems.Default();
        var objectives = new ObjectiveModel(new ExactRewardModel(problem));
        var shares = new double[8];
        shares[new RoutingAction(AgentRole.Coder, Provider.OpenAI).Index] = 0.5;
        shares[new RoutingAction(AgentRole.Coder, Provider.Anthropic).Index] = 0.5;
        var p95 = objectives.Of(TaskPolicy.Blind(problem, shares)).P95LatencySeconds;
        Assert.Equal(0.95, 0.5 * Normal.Cdf((p95 - 2.4) / 0.6) + 0.5 * Normal.Cdf((p95 - 3.3) / 0.8), 1e-9);
        Assert.InRange(p95, 2.4 + 1.6448536269514722 * 0.6, 3.3 + 1.6448536269514722 * 0.8);
    }

    [Fact]
    public void Hypervolume_of_a_hand_checked_set()
    {
        TradeOffPoint[] points = [new(1, 0.5), new(2, 0.8), new(3, 0.7), new(5, 0.9), new(0.5, -0.1)];
        // (3, 0.7) is dominated by (2, 0.8); (5, 0.9) lies beyond the reference cost 4 and (0.5, -0.1) below its quality 0.
        Assert.Equal([new(0.5, -0.1), new(1, 0.5), new(2, 0.8), new(5, 0.9)], ParetoFront.Of(points));
        Assert.Equal((2 - 1) * 0.5 + (4 - 2) * 0.8, ParetoFront.Hypervolume(points, new TradeOffPoint(4, 0.0)), 1e-12);
        Assert.Equal(0.0, ParetoFront.Hypervolume([new(4, 0.9)], new TradeOffPoint(4, 0.0)));
    }

    [Fact]
    public void The_exact_front_of_a_two_action_problem()
    {
        // Only the coder on either provider; anthropic is 0.05 better for coding and costs more everywhere, latencies are equal.
        var problem = new RoutingProblem(TaskBank.Default, SimulationProfile.Parse(Problems.Profile(spread: 0, tokenSpread: 0, latencySpread: 0.5), "test"),
            PriceTable.Default, Problems.Providers, Provider.OpenAI, new RewardOptions(), new Routing.Learning.LoadTrackerOptions(), false,
            [new RoutingAction(AgentRole.Coder, Provider.OpenAI), new RoutingAction(AgentRole.Coder, Provider.Anthropic)]);
        var front = new ExactFront(new ObjectiveModel(new ExactRewardModel(problem)));
        Assert.Equal(16, front.Policies.Count);
        double Cost(RoutingTask t, bool anthropic) => anthropic
            ? (InputTokens(t, AgentRole.Coder) * 0.80 + 400 * 4.00) / 1e6
            : (InputTokens(t, AgentRole.Coder) * 0.15 + 400 * 0.60) / 1e6;
        var cheapest = problem.Bank.Tasks.Average(t => Cost(t, false));
        var codingOnAnthropic = problem.Bank.Tasks.Average(t => Cost(t, t.Type == TaskType.Coding));
        var dearest = problem.Bank.Tasks.Average(t => Cost(t, true));
        // Two policies are efficient: all openai, and anthropic for coding only (3 of 11 tasks gain 0.05).
        Assert.Equal(2, front.CostFront.Count);
        Assert.Equal(cheapest, front.CostFront[0].Cost, 1e-15);
        Assert.Equal((3 * 0.9 + 8 * 0.4) / 11, front.CostFront[0].Quality, 1e-12);
        Assert.Equal(codingOnAnthropic, front.CostFront[1].Cost, 1e-15);
        Assert.Equal((3 * 0.95 + 8 * 0.4) / 11, front.CostFront[1].Quality, 1e-12);
        // The reference is the front's nadir (its dearest cost, its lowest quality) moved out by a tenth of the front's range.
        var (q0, q1) = ((3 * 0.9 + 8 * 0.4) / 11, (3 * 0.95 + 8 * 0.4) / 11);
        var referenceCost = codingOnAnthropic + 0.1 * (codingOnAnthropic - cheapest);
        var referenceQuality = q0 - 0.1 * (q1 - q0);
        Assert.Equal(referenceCost, front.CostReference.Cost, 1e-15);
        Assert.Equal(referenceQuality, front.CostReference.Quality, 1e-12);
        var cheapArea = (referenceCost - cheapest) * (q0 - referenceQuality);
        var exactArea = (codingOnAnthropic - cheapest) * (q0 - referenceQuality) + (referenceCost - codingOnAnthropic) * (q1 - referenceQuality);
        Assert.Equal(exactArea, front.CostHypervolume, 1e-15);
        Assert.Equal(1.0, front.CostRatio(front.CostFront.Select(p => p.ToObjectives())), 1e-12);
        Assert.Equal(cheapArea / exactArea, front.CostRatio([front.CostFront[0].ToObjectives()]), 1e-12);
        // The dearest policy (anthropic everywhere) is dominated and lies beyond the reference cost: it covers nothing.
        Assert.True(dearest > referenceCost);
        Assert.Equal(0.0, front.CostRatio([new PolicyObjectives(q1, dearest, 0)]));
        // Equal latencies: every policy has the same p95, so there is no latency trade-off to cover.
        Assert.Equal(0.0, front.LatencyHypervolume);
        Assert.True(double.IsNaN(front.LatencyRatio([front.CostFront[1].ToObjectives()])));
    }
}

internal static class TradeOffPointTestExtensions
{
    /// <summary>A (cost, quality) point as the objectives of a policy whose latency does not matter to the test.</summary>
    public static PolicyObjectives ToObjectives(this TradeOffPoint p) => new(p.Quality, p.Cost, 0);
}

public sealed class ParetoLearnerTests
{
    private static readonly RewardWeights QualityOnly = RewardWeights.Parse("quality=1");
    private static readonly RewardWeights Frugal = RewardWeights.Parse("quality=1,cost=100");

    [Fact]
    public void The_vector_bandit_answers_every_weight_vector_from_one_set_of_means()
    {
        // One state, two actions: action 0 quality 0.8 at $0.002, action 1 quality 0.7 at $0.0002 (latency equal).
        var learner = new VectorUcbLearner(1, 2, [QualityOnly, Frugal], 1.0, new RLWorkbench.Gym.Random.SeededRandomSource(1));
        Assert.Equal(0, learner.Choose(0));
        learner.Learn(0, 0, new RewardVector(0.8, 0.002, 3, 0));
        Assert.Equal(1, learner.Choose(0));
        learner.Learn(0, 1, new RewardVector(0.6, 0.0002, 2, 0));
        learner.Learn(0, 1, new RewardVector(0.8, 0.0002, 4, 0));
        // Quality only: 0.8 against 0.7. Cost 100 per USD: 0.8 - 0.2 = 0.6 against 0.7 - 0.02 = 0.68.
        Assert.Equal([0], learner.GreedyTable(QualityOnly));
        Assert.Equal([1], learner.GreedyTable(Frugal));
        Assert.Equal([0], learner.GreedyTable(RewardWeights.Parse("quality=1,latency=0.01")));
        Assert.Equal(6, learner.LearnedParameters);
        // Both tables are efficient: one has the quality, the other the price.
        Assert.Equal([[0], [1]], learner.EstimatedFront([1.0]));
    }

    [Fact]
    public void The_estimated_front_leaves_out_what_its_means_say_is_dominated()
    {
        var learner = new VectorUcbLearner(1, 3, [QualityOnly], 1.0, new RLWorkbench.Gym.Random.SeededRandomSource(1));
        learner.Learn(0, 0, new RewardVector(0.8, 0.002, 3, 0));
        learner.Learn(0, 1, new RewardVector(0.7, 0.003, 4, 0));
        // Action 1 is worse and dearer and slower than action 0; action 2 is untried, so it is not offered.
        Assert.Equal([[0]], learner.EstimatedFront([1.0]));
    }

    [Fact]
    public void The_fixed_rules_are_the_policies_their_names_say()
    {
        var problem = Problems.Default();
        var model = new ExactRewardModel(problem);
        var objectives = new ObjectiveModel(model);
        var rules = FixedRules.All(objectives, model).ToDictionary(r => r.Name, r => r.Objectives);
        int Action(AgentRole agent, Provider provider) => new RoutingAction(agent, provider).Index;
        // Types in order analysis, coding, research, validation; each to its own agent.
        int[] On(Provider p) => [Action(AgentRole.Analyst, p), Action(AgentRole.Coder, p), Action(AgentRole.Researcher, p), Action(AgentRole.Validator, p)];
        var openAi = objectives.Of(TaskPolicy.FromTypeTable(problem, On(Provider.OpenAI)));
        var anthropic = objectives.Of(TaskPolicy.FromTypeTable(problem, On(Provider.Anthropic)));
        // gpt-4o-mini is cheaper for every task and openai's latency (2.4 s) is lower than anthropic's (3.3 s).
        Assert.Equal(openAi, rules["cheapest"]);
        Assert.Equal(openAi, rules["lowest-latency"]);
        Assert.Equal(openAi, rules["routellm-inf"]);
        // Claude is the dearer model, so the strong one: a threshold at the lowest complexity (0.3) sends everything to it.
        Assert.Equal(anthropic, rules["routellm-0.3"]);
        // Least busy alternates providers: half of each type's tasks on each.
        Assert.Equal((openAi.Quality + anthropic.Quality) / 2, rules["least-busy"].Quality, 1e-12);
        Assert.Equal((openAi.CostUsd + anthropic.CostUsd) / 2, rules["least-busy"].CostUsd, 1e-15);
        // Best quality: the highest expected quality per type, whatever it costs.
        var best = Enumerable.Range(0, 4).Select(t => Enumerable.Range(0, 8).MaxBy(a => model.ExpectedQuality(t, a))).ToArray();
        Assert.Equal(objectives.Of(TaskPolicy.FromTypeTable(problem, best)), rules["best-quality"]);
    }
}
