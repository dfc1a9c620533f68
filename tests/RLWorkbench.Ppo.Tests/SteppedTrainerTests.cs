using RLWorkbench.Gym;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo.Tests;

/// <summary>A trainer stepped from outside (Begin, Act, Observe) against one that drives the same environment itself (Learn).</summary>
public class SteppedTrainerTests
{
    private static PpoOptions Options(bool normalise) => new()
    {
        NumEnvs = 1,
        StepsPerEnv = 16,
        MinibatchSize = 8,
        Epochs = 2,
        HiddenSizes = [16],
        Seed = 3,
        NormalizeObservations = normalise,
        NormalizeRewards = normalise,
    };

    private static IEnv Make(string kind) => kind switch
    {
        "bandit" => new ContextualBandit(4, 0),
        "time-limited" => new TimeLimited(5),
        _ => throw new ArgumentException(kind),
    };

    [Theory]
    [InlineData("bandit", false)]
    [InlineData("bandit", true)]
    [InlineData("time-limited", false)]
    [InlineData("time-limited", true)]
    public void Stepping_from_outside_makes_the_same_updates_bit_for_bit_as_driving_the_environment(string kind, bool normalise)
    {
        var options = Options(normalise);
        const int updates = 4;
        using var driving = new PpoTrainer(options, _ => Make(kind), CPU);
        Assert.Equal(TrainingOutcome.Completed, driving.Learn(updates * options.StepsPerEnv));

        using var env = Make(kind);
        using var stepped = new PpoTrainer(options, env.ObservationSpace, env.ActionSpace, CPU, plannedSteps: updates * options.StepsPerEnv);
        var size = env.ObservationSpace.FlatSize;
        var observation = new float[size];
        var next = new float[size];
        // What the vector environment does for the driving trainer: seed the first reset, and reset after an episode ends.
        env.Reset(options.Seed, observation);
        stepped.Begin(observation);
        var metrics = new List<UpdateMetrics>();
        for (var t = 0; t < updates * options.StepsPerEnv; t++)
        {
            var action = stepped.Act().ToArray();
            var result = env.Step(action, next);
            if (result.Terminated || result.Truncated)
                env.Reset(null, next);
            if (stepped.Observe(result.Reward, next, result.Terminated, result.Truncated) is { } m)
                metrics.Add(m);
        }

        Assert.Equal(updates, stepped.Updates);
        Assert.Equal(updates, metrics.Count);
        Assert.Equal(driving.TotalSteps, stepped.TotalSteps);
        Assert.Equal(driving.Policy.Parameters.ValuesToArray(), stepped.Policy.Parameters.ValuesToArray());
        Assert.Equal(driving.LastMetrics!.PolicyLoss, metrics[^1].PolicyLoss);
        Assert.Equal(driving.LastMetrics.ApproxKl, metrics[^1].ApproxKl);
    }

    [Fact]
    public void A_trainer_stepped_from_outside_refuses_calls_out_of_turn()
    {
        var options = Options(normalise: false);
        using var env = new TimeLimited(5);
        using var stepped = new PpoTrainer(options, env.ObservationSpace, env.ActionSpace, CPU);
        Assert.Null(stepped.Environments);
        Assert.Throws<InvalidOperationException>(() => stepped.Act().ToArray());
        Assert.Throws<InvalidOperationException>(() => stepped.Learn(16));
        var observation = new float[2];
        env.Reset(0, observation);
        var tooShort = Assert.Throws<ArgumentException>(() => stepped.Begin(new float[1]));
        Assert.StartsWith("The observation has 1 values; the policy takes 2.", tooShort.Message);
        stepped.Begin(observation);
        Assert.Throws<InvalidOperationException>(() => stepped.Begin(observation));
        Assert.Throws<InvalidOperationException>(() => stepped.Observe(1, observation, false, false));
        stepped.Act();
        Assert.Throws<InvalidOperationException>(() => stepped.Act().ToArray());
        Assert.Null(stepped.Observe(1, observation, false, false));
    }

    [Fact]
    public void A_trainer_stepped_from_outside_feeds_one_stream()
    {
        using var env = new TimeLimited(5);
        var e = Assert.Throws<ArgumentException>(() => new PpoTrainer(Options(false) with { NumEnvs = 2 }, env.ObservationSpace, env.ActionSpace, CPU));
        Assert.StartsWith("A trainer stepped from outside feeds one stream, so numEnvs must be 1, not 2.", e.Message);
    }
}
