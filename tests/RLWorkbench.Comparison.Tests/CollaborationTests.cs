using RLWorkbench.Comparison;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;

namespace RLWorkbench.Comparison.Tests;

/// <summary>The two collaboration mechanisms: the pair table's arithmetic, the signal, and how a state-augmented policy is valued.</summary>
public sealed class CollaborationTests
{
    private static RoutingContext Context(int type) => new(TaskBank.Default[0], type, 0, type, new LoadTracker(new LoadTrackerOptions()));

    private static RoutedTask Outcome(int chain, double reward) => new(TaskBank.Default[0], chain, reward, 0, reward, false, 0, 0);

    private static RoutingChain Chain(string label) => RoutingChain.Parse(label);

    [Fact]
    public void The_pair_table_scores_a_handoff_against_the_usual_reward_of_its_state()
    {
        var table = new PairTable(2);
        table.Record(0, Chain("researcher/openai>analyst/openai"), 0.8);
        table.Record(0, Chain("coder/openai"), 0.5);
        table.Record(0, Chain("researcher/openai>analyst/anthropic>validator/openai"), 0.9);
        // The first pull counts as usual (residual 0); the third is 0.9 - 0.65 = 0.25 above the mean before it.
        Assert.Equal(0.125, table.PairValue(0, AgentRole.Researcher, AgentRole.Analyst), 1e-15);
        Assert.Equal(0.25, table.PairValue(0, AgentRole.Analyst, AgentRole.Validator), 1e-15);
        Assert.Equal(0.0, table.PairValue(0, AgentRole.Validator, AgentRole.Researcher));
        Assert.Equal(2.2 / 3, table.StateMean(0), 1e-15);
        Assert.Equal(2.2 / 3 + (0.125 + 0.25) / 2, table.Predict(0, Chain("researcher/anthropic>analyst/openai>validator/anthropic")), 1e-15);
        Assert.Equal(2.2 / 3, table.Predict(0, Chain("validator/openai")), 1e-15);
        Assert.Equal(0.0, table.Predict(1, Chain("researcher/openai>analyst/openai")));
    }

    [Fact]
    public void A_pair_prior_blends_the_prediction_in_as_pseudo_pulls()
    {
        var chains = new ChainOptions { MaxLength = 2 }.Enumerate();
        var learner = new ChainBanditLearner(1, chains, RoutingAlgorithms.Ucb1, new BanditOptions(), new SeededRandomSource(1), new PairTable(1), priorPulls: 2.0);
        var ra = chains.ToList().FindIndex(c => c.Label == "researcher/openai>analyst/openai");
        var single = chains.ToList().FindIndex(c => c.Label == "coder/openai");
        // Nothing seen: every prediction is 0 and the bonus ln(1) is 0, so the first chain is routed.
        Assert.Equal(0, learner.Choose(Context(0)));
        learner.Learn(Context(0), Outcome(single, 0.4));
        learner.Learn(Context(0), Outcome(ra, 0.7));
        // Mean 0.55; researcher>analyst did 0.3 above the 0.4 before it.
        var (mean, pulls) = learner.PriorBlended(0, ra);
        Assert.Equal((0.7 + 2 * (0.55 + 0.3)) / 3, mean, 1e-15);
        Assert.Equal(3.0, pulls);
        var untried = chains.ToList().FindIndex(c => c.Label == "researcher/anthropic>analyst/openai");
        Assert.Equal(0.55 + 0.3, learner.PriorBlended(0, untried).Mean, 1e-15);
        Assert.Equal(2.0, learner.PriorBlended(0, untried).Pulls);
    }

    [Fact]
    public void The_collaboration_signal_names_the_last_handoff_and_how_it_went()
    {
        Assert.Equal(25, CollaborationSignal.Count);
        Assert.Equal([0, 1, 2, 3, 11], new[] { (AgentRole.Researcher, AgentRole.Analyst), (AgentRole.Researcher, AgentRole.Coder), (AgentRole.Researcher, AgentRole.Validator), (AgentRole.Analyst, AgentRole.Researcher), (AgentRole.Validator, AgentRole.Coder) }
            .Select(p => CollaborationSignal.PairIndex(p.Item1, p.Item2)));
        Assert.Equal(CollaborationSignal.None, CollaborationSignal.Of(Chain("coder/openai"), good: true));
        Assert.Equal(11, CollaborationSignal.Of(Chain("researcher/openai>analyst/openai>validator/anthropic"), good: true));
        Assert.Equal("analyst>validator:good", CollaborationSignal.Label(11));
        Assert.Equal("analyst>validator:poor", CollaborationSignal.Label(12));
        Assert.Equal("validator>coder:poor", CollaborationSignal.Label(24));
        Assert.Equal("none", CollaborationSignal.Label(0));
    }

    [Fact]
    public void A_state_augmented_learner_is_valued_as_a_mixture_over_the_signals_it_saw_recently()
    {
        var chains = new ChainOptions { MaxLength = 2 }.Enumerate();
        var problem = ChainBaselineTests.ChainProblem(chains);
        ChainBanditLearner? inner = null;
        var learner = new CollaborationStateLearner(problem, states => inner = new ChainBanditLearner(states, chains, RoutingAlgorithms.Ucb1, new BanditOptions(), new SeededRandomSource(1)), window: 2);
        Assert.Equal(4 * 25, inner!.Bandit.StateCount);
        // Before any task every type routes under "none": its greedy chain 0 with weight 1.
        Assert.Equal(new Dictionary<int, double> { [0] = 1.0 }, ((MixturePolicy)learner.GreedyPolicy()).ChainWeights[1]);
        var ra = chains.ToList().FindIndex(c => c.Label == "researcher/openai>analyst/openai");
        learner.Learn(Context(1), Outcome(ra, 0.6));
        Assert.Equal(1, learner.Signal);
        learner.Learn(Context(1), Outcome(ra, 0.4));
        Assert.Equal(2, learner.Signal);
        // The first task was learned under (type 1, none) = state 25, the second under (type 1, researcher>analyst:good) = state 26.
        Assert.Equal(1, inner.Bandit.Counts[1 * 25 + 0, ra]);
        Assert.Equal(1, inner.Bandit.Counts[1 * 25 + 1, ra]);
        // Window: signals 1 and 2, half each. Under signal 1 type 1's greedy is ra; under signal 2 nothing was tried: chain 0.
        var mixture = (MixturePolicy)learner.GreedyPolicy();
        Assert.Equal(new Dictionary<int, double> { [ra] = 0.5, [0] = 0.5 }, mixture.ChainWeights[1]);
        Assert.Equal(new Dictionary<int, double> { [0] = 1.0 }, mixture.ChainWeights[0]);
        Assert.Equal(27, learner.AugmentedState(1, 2));
        // Two single-step tasks push both signals out of the two-task window: only "none" is left, under which type 1 tried ra.
        learner.Learn(Context(0), Outcome(0, 0.9));
        learner.Learn(Context(0), Outcome(0, 0.9));
        Assert.Equal(CollaborationSignal.None, learner.Signal);
        Assert.Equal(new Dictionary<int, double> { [ra] = 1.0 }, ((MixturePolicy)learner.GreedyPolicy()).ChainWeights[1]);
    }

    [Fact]
    public void A_mixture_is_valued_as_the_weighted_values_of_its_chains()
    {
        var problem = Problems.Default();
        var valuer = new PolicyValuer(new ExactRewardModel(problem));
        var weights = Enumerable.Range(0, 4).Select(_ => (IReadOnlyDictionary<int, double>)new Dictionary<int, double> { [3] = 0.25, [6] = 0.75 }).ToArray();
        var expected = 0.25 * valuer.Value(new TablePolicy([3, 3, 3, 3])) + 0.75 * valuer.Value(new TablePolicy([6, 6, 6, 6]));
        Assert.Equal(expected, valuer.Value(new MixturePolicy(weights)), 1e-12);
    }
}
