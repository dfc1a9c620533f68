using RLWorkbench.Comparison;
using RLWorkbench.Gym.Random;
using RLWorkbench.Routing.Core;
using RLWorkbench.Routing.Learning;

namespace RLWorkbench.Comparison.Tests;

public sealed class LearnerTests
{
    private static RoutingContext Context(int state) => new(TaskBank.Default[0], state, 0, state, new LoadTracker(new LoadTrackerOptions()));

    private static RoutedTask Outcome(int action, double reward) => new(TaskBank.Default[0], action, reward, 0, reward, false, 0, 0);

    [Fact]
    public void Ucb1_tries_every_action_then_adds_the_exploration_bonus_exactly()
    {
        var problem = Problems.Default();
        var ucb = BanditLearner.Ucb1(problem, exploration: 1.0);
        var rewards = new[] { 0.5, 0.6, 0.2, 0.3, 0.1, 0.9, 0.4, 0.7 };
        for (var a = 0; a < 8; a++)
        {
            Assert.Equal(a, ucb.Choose(Context(2)));
            ucb.Learn(Context(2), Outcome(a, rewards[a]));
        }
        ucb.Learn(Context(2), Outcome(5, 0.5));
        // Action 5: two pulls, mean 0.7; nine pulls in the state.
        Assert.Equal(0.7, ucb.Bandit.Mean(2, 5), 1e-15);
        Assert.Equal(0.7 + Math.Sqrt(2 * Math.Log(9) / 2), ((Ucb1Bandit)ucb.Bandit).Index(2, 5), 1e-15);
        Assert.Equal(0.7 + Math.Sqrt(2 * Math.Log(9) / 1), ((Ucb1Bandit)ucb.Bandit).Index(2, 7), 1e-15);
        // 0.7 + sqrt(2 ln 9) beats 0.7 + sqrt(ln 9): the once-pulled 0.7 (action 7) is routed to.
        Assert.Equal(7, ucb.Choose(Context(2)));
        // Greedy is the best sample mean: actions 5 and 7 tie at 0.7, so the first.
        Assert.Equal(5, ((TablePolicy)ucb.GreedyPolicy()).ActionPerState[2]);
        // Another state is untouched and starts from action 0.
        Assert.Equal(0, ucb.Choose(Context(0)));
    }

    [Fact]
    public void Thompson_draws_each_value_from_its_mean_and_shrinking_spread()
    {
        var problem = Problems.Default();
        var random = new SeededRandomSource(5);
        var twin = new SeededRandomSource(5);
        var ts = BanditLearner.Thompson(problem, noise: 0.1, random);
        for (var a = 0; a < 8; a++)
        {
            Assert.Equal(a, ts.Choose(Context(1)));
            ts.Learn(Context(1), Outcome(a, 0.1 * a));
        }
        ts.Learn(Context(1), Outcome(3, 0.5));
        Assert.Equal(2, ts.Bandit.Counts[1, 3]);
        Assert.Equal(0.8, ts.Bandit.Sums[1, 3], 1e-15);
        // Replay the draws by hand with the same stream: value = mean + 0.1 / sqrt(n) x z.
        var best = -1;
        var bestDraw = double.NegativeInfinity;
        for (var a = 0; a < 8; a++)
        {
            var n = a == 3 ? 2 : 1;
            var mean = a == 3 ? 0.4 : 0.1 * a;
            var draw = mean + 0.1 / Math.Sqrt(n) * ThompsonBandit.StandardNormal(twin);
            if (draw > bestDraw)
                (best, bestDraw) = (a, draw);
        }
        Assert.Equal(best, ts.Choose(Context(1)));
        Assert.Equal(random.Random(), twin.Random());
    }

    [Fact]
    public void Baselines_rotate_as_described()
    {
        var problem = Problems.Default();
        var robin = new RoundRobinRouter(problem);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7, 0], Enumerable.Range(0, 9).Select(_ => robin.Choose(Context(0))));
        var lru = new LeastRecentlyUsedRouter(problem);
        // Agents in turn (researcher, analyst, coder, validator), each on its least recently used provider.
        Assert.Equal([0, 2, 4, 6, 1, 3, 5, 7, 0], Enumerable.Range(0, 9).Select(_ => lru.Choose(Context(0))));
    }

    [Fact]
    public void Q_learning_is_the_routing_module_s_tabular_q_learner()
    {
        var problem = Problems.Default();
        var q = SeedQLearner.Create(problem, null, new SeededRandomSource(3));
        using var env = new RoutingEnvironment(problem, SimulatedRoutingBackend.Factory, 3);
        var context = new RoutingContext(env.CurrentTask, env.CurrentTypeIndex, 0, env.CurrentState, env.LoadTracker);
        var action = q.Choose(context);
        var outcome = env.Route(action);
        q.Learn(context, outcome);
        // A zero table: Q = 0.15 x (reward + 0.95 x 0).
        Assert.Equal(0.15 * outcome.RawReward, q[context.State, action], 1e-12);
        Assert.Equal(0.97, q.Epsilon, 1e-12);
    }
    [Fact]
    public void Ppo_routes_from_the_observation_and_updates_once_the_rollout_s_last_task_has_its_next_observation()
    {
        var problem = Problems.Default();
        // 2 x 4 configured: one stream of 8 tasks per update.
        var options = new RLWorkbench.Ppo.PpoOptions { NumEnvs = 2, StepsPerEnv = 4, MinibatchSize = 4, Epochs = 1, HiddenSizes = [8], Seed = 5 };
        using var ppo = new PpoRoutingLearner(problem, options, episodeLength: 64, TorchSharp.torch.CPU);
        using var env = new RoutingEnvironment(problem, SimulatedRoutingBackend.Factory, 5);
        var observation = new float[problem.ObservationSize];
        RoutingContext Next()
        {
            env.WriteObservation(observation);
            return new RoutingContext(env.CurrentTask, env.CurrentTypeIndex, 0, env.CurrentState, env.LoadTracker, observation);
        }
        var blind = Assert.Throws<ArgumentException>(() => ppo.Choose(Context(0)));
        Assert.StartsWith("PPO routes from the task's observation, and this context carries none.", blind.Message);
        for (var task = 0; task < 8; task++)
        {
            var context = Next();
            ppo.Learn(context, env.Route(ppo.Choose(context)));
        }
        Assert.Equal(0, ppo.Updates);
        var ninth = Next();
        var action = ppo.Choose(ninth);
        Assert.Equal(1, ppo.Updates);
        Assert.InRange(action, 0, problem.ActionCount - 1);
        Assert.Throws<InvalidOperationException>(() => ppo.Choose(Next()));
        Assert.Equal(problem.StateCount, ((TablePolicy)ppo.GreedyPolicy()).ActionPerState.Length);
    }
}
