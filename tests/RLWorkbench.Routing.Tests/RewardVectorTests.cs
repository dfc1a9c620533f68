using System.Text.Json;
using RLWorkbench.Routing.Chat;
using RLWorkbench.Routing.Core;

namespace RLWorkbench.Routing.Tests;

public class RewardVectorTests
{
    private static JudgeVerdict Verdict(double quality) => new(quality, quality, quality, quality, "", false);

    private static CallRecord Call(double cost, double latency) =>
        new(1, "agent", "openai", "gpt-4o-mini", null, 100, 50, true, latency, cost, DateTimeOffset.UnixEpoch);

    /// <summary>The seed's reward after the load penalty, as the Q-learning coordinator computes it.</summary>
    private static double SeedReward(double quality, double cost, double latency, double penalty) =>
        Math.Max(0.0, new CompositeReward(new RewardOptions()).Compute(Verdict(quality), cost, latency) - penalty);

    [Fact]
    public void The_example_weights_parse_and_scalarise_the_vector()
    {
        var w = RewardWeights.Parse("quality=1,cost=20,latency=0.05,fairness=0.1");
        Assert.Equal((1.0, 20.0, 0.05, 0.1), (w.Quality, w.Cost, w.Latency, w.Fairness));
        var v = new RewardVector(0.8, 0.001, 2.0, 0.05);
        Assert.Equal(0.8 - 20 * 0.001 - 0.05 * 2.0 - 0.1 * 0.05, w.Scalarise(v), 15);
    }

    [Fact]
    public void Names_may_come_in_any_order_and_case_with_spaces_and_an_objective_not_named_weighs_zero()
    {
        var w = RewardWeights.Parse(" Cost = 2.5e1 , QUALITY=1 ");
        Assert.Equal((1.0, 25.0, 0.0, 0.0), (w.Quality, w.Cost, w.Latency, w.Fairness));
        Assert.Equal("quality=1,cost=25,latency=0,fairness=0", w.ToString());
        Assert.Equal(w, RewardWeights.Parse(w.ToString()));
        var odd = new RewardWeights(0.1, 1.0 / 3, 0, 0);
        Assert.Equal(odd, RewardWeights.Parse(odd.ToString()));
    }

    [Theory]
    [InlineData("quality=1,speed=2", "Unknown objective 'speed' in the weights 'quality=1,speed=2'; the objectives are quality, cost, latency and fairness.")]
    [InlineData("quality=1,cost=-1", "The weight of cost must be a finite number of at least 0, not '-1'.")]
    [InlineData("quality=NaN", "The weight of quality must be a finite number of at least 0, not 'NaN'.")]
    [InlineData("quality=Infinity", "The weight of quality must be a finite number of at least 0, not 'Infinity'.")]
    [InlineData("latency=1e999", "The weight of latency must be a finite number of at least 0, not '1e999'.")]
    [InlineData("cost=abc", "The weight of cost must be a finite number of at least 0, not 'abc'.")]
    [InlineData("quality=0,cost=0", "The weights 'quality=0,cost=0' are all zero; give at least one objective a positive weight.")]
    [InlineData("quality=1,cost=2,cost=3", "The objective cost is weighted twice in the weights 'quality=1,cost=2,cost=3'; give each objective at most once.")]
    [InlineData("quality", "'quality' in the weights 'quality' is not objective=weight; write them as quality=1,cost=20,latency=0.05,fairness=0.1.")]
    [InlineData("quality=1,,cost=2", "'' in the weights 'quality=1,,cost=2' is not objective=weight; write them as quality=1,cost=20,latency=0.05,fairness=0.1.")]
    [InlineData("quality=1=2", "'quality=1=2' in the weights 'quality=1=2' is not objective=weight; write them as quality=1,cost=20,latency=0.05,fairness=0.1.")]
    [InlineData(" ", "The weights are empty; give objective=weight pairs, for example quality=1,cost=20,latency=0.05,fairness=0.1.")]
    public void Bad_weights_are_one_sentence_naming_the_value(string text, string message) =>
        Assert.Equal(message, Assert.Throws<RoutingInputException>(() => RewardWeights.Parse(text)).Message);

    [Fact]
    public void Weights_built_in_code_are_held_to_the_same_rules()
    {
        Assert.Equal("The weight of fairness must be a finite number of at least 0, not -0.5.",
            Assert.Throws<RoutingInputException>(() => new RewardWeights(1, 0, 0, -0.5)).Message);
        Assert.Equal("The weights are all zero; give at least one objective a positive weight, for example quality=1,cost=20,latency=0.05,fairness=0.1.",
            Assert.Throws<RoutingInputException>(() => new RewardWeights(0, 0, 0, 0)).Message);
    }

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private sealed record Config(RewardWeights? Weights);

    [Theory]
    [InlineData("""{"weights": "quality=1,cost=20"}""")]
    [InlineData("""{"weights": {"quality": 1, "cost": 20}}""")]
    public void A_configuration_gives_the_weights_as_text_or_as_an_object(string json)
    {
        var config = JsonSerializer.Deserialize<Config>(json, Web)!;
        Assert.Equal(new RewardWeights(1, 20, 0, 0), config.Weights);
        Assert.Equal("""{"weights":{"quality":1,"cost":20,"latency":0,"fairness":0}}""", JsonSerializer.Serialize(config, Web));
    }

    [Theory]
    [InlineData("""{"weights": {"quality": 1, "speed": 2}}""", "Unknown objective 'speed' in the weights 'quality=1,speed=2'; the objectives are quality, cost, latency and fairness.")]
    [InlineData("""{"weights": {"quality": 0}}""", "The weights 'quality=0' are all zero; give at least one objective a positive weight.")]
    [InlineData("""{"weights": {"cost": -2}}""", "The weight of cost must be a finite number of at least 0, not -2.")]
    [InlineData("""{"weights": {"cost": "high"}}""", "The weight of cost must be a finite number of at least 0, not \"high\".")]
    [InlineData("""{"weights": {"cost": 1, "Cost": 2}}""", "An objective is weighted twice in the weights object; give each objective at most once.")]
    [InlineData("""{"weights": 3}""", "The weights must be text such as \"quality=1,cost=20,latency=0.05,fairness=0.1\" or an object such as {\"quality\": 1, \"cost\": 20}.")]
    public void Bad_weights_in_a_configuration_are_the_same_sentences(string json, string message) =>
        Assert.Equal(message, Assert.Throws<RoutingInputException>(() => JsonSerializer.Deserialize<Config>(json, Web)).Message);

    [Fact]
    public void The_seed_weights_are_quality_1_cost_50_latency_0_01_fairness_1()
    {
        var seed = RewardWeights.Seed(new RewardOptions());
        Assert.Equal((1.0, 50.0, 0.01, 1.0), (seed.Quality, seed.Cost, seed.Latency, seed.Fairness), new TupleTolerance(1e-15));
    }

    [Theory]
    [InlineData(0.9, 0.0, 0.0, 0.0)]
    [InlineData(0.9, 0.0004, 1.7, 0.0)]
    [InlineData(0.55, 0.002, 5.0, 0.0)]
    [InlineData(0.7, 0.0011, 3.2, 0.05)]
    [InlineData(0.3, 0.0001, 0.4, 0.2)]
    [InlineData(1.0, 0.00123, 4.99, 0.125)]
    public void Inside_the_caps_the_seed_weights_give_the_seed_reward(double quality, double cost, double latency, double penalty)
    {
        var vector = RewardVector.Of(Verdict(quality), [Call(cost, latency)], penalty);
        Assert.Equal(SeedReward(quality, cost, latency, penalty), RewardWeights.Seed(new RewardOptions()).Scalarise(vector), 12);
    }

    [Theory]
    [InlineData(0.9, 0.004, 0.0, 0.0, 0.8, 0.7)] // the cost term saturates at $0.002
    [InlineData(0.9, 0.0, 10.0, 0.0, 0.85, 0.8)] // the latency term saturates at 5 s
    [InlineData(0.05, 0.002, 5.0, 0.0, 0.0, -0.1)] // the seed clips at 0
    [InlineData(0.2, 0.0, 0.0, 0.2, 0.0, 0.0)] // max(0, raw - penalty) = 0 = the weighted sum here by coincidence
    [InlineData(0.1, 0.0, 0.0, 0.2, 0.0, -0.1)] // ...but not when the penalty is larger
    public void Beyond_the_caps_no_weighted_sum_gives_the_seed_reward(double quality, double cost, double latency, double penalty, double seedReward, double weighted)
    {
        Assert.Equal(seedReward, SeedReward(quality, cost, latency, penalty), 12);
        Assert.Equal(weighted, RewardWeights.Seed(new RewardOptions()).Scalarise(RewardVector.Of(Verdict(quality), [Call(cost, latency)], penalty)), 12);
    }

    [Fact]
    public void A_chain_adds_its_steps_cost_and_latency()
    {
        var v = RewardVector.Of(Verdict(0.75), [Call(0.001, 1.5), Call(0.0005, 2.25)], 0.1);
        Assert.Equal((0.75, 0.0015, 3.75, 0.1), (v.Quality, v.CostUsd, v.LatencySeconds, v.Fairness));
        var later = v.WithFairness(0.15);
        Assert.Equal((0.75, 0.0015, 3.75, 0.15), (later.Quality, later.CostUsd, later.LatencySeconds, later.Fairness));
    }

    [Theory]
    [InlineData(1.1, 0, 0, 0)]
    [InlineData(-0.1, 0, 0, 0)]
    [InlineData(0.5, -1, 0, 0)]
    [InlineData(0.5, 0, double.NaN, 0)]
    [InlineData(0.5, 0, 0, double.PositiveInfinity)]
    public void A_vector_outside_its_ranges_is_a_programming_error(double q, double c, double l, double f) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new RewardVector(q, c, l, f));

    private sealed class TupleTolerance(double tolerance) : IEqualityComparer<(double, double, double, double)>
    {
        public bool Equals((double, double, double, double) x, (double, double, double, double) y) =>
            Math.Abs(x.Item1 - y.Item1) <= tolerance && Math.Abs(x.Item2 - y.Item2) <= tolerance && Math.Abs(x.Item3 - y.Item3) <= tolerance && Math.Abs(x.Item4 - y.Item4) <= tolerance;

        public int GetHashCode((double, double, double, double) obj) => 0;
    }
}
