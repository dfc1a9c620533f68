using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using RLWorkbench.Gym;
using RLWorkbench.Gym.Random;
using RLWorkbench.Simulation;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo.Tests;

/// <summary>
/// Compares today's trainer with fixtures the code wrote before the distribution seam existed
/// (Fixtures/README.md): the default configuration must train bit for bit as it did, and old
/// checkpoints must load and answer exactly as they did.
/// </summary>
public class FixtureTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    [Fact]
    public void The_seed_configuration_trains_bit_for_bit_as_before_on_the_phase1_environment_with_the_tensor_loss()
    {
        var options = new PpoOptions { StepsPerEnv = 256, TensorLoss = true };
        AssertSameMetrics("seed-configuration-phase1-metrics.csv", options, i => new TaskEnvironment(new TaskEnvironmentOptions(), seed: i), 3 * 1024);
    }

    /// <summary>
    /// The host loss (the CPU default) computes the same loss in double precision, so its curve leaves the fixture's only by
    /// rounding. The first update learns from the same rollout, so every logged figure is within 1e-5 of the fixture's,
    /// relative. Later rollouts are sampled from weights that differ in the last bits, and the environment's thresholds
    /// (an action component above or below 0.5 assigns a task or not) turn that into different episodes, so only the first
    /// update can be compared figure by figure; the curves' agreement over a long run is in docs/ppo.md.
    /// </summary>
    [Fact]
    public void The_seed_configuration_with_the_host_loss_follows_the_fixture_up_to_rounding()
    {
        var options = new PpoOptions { StepsPerEnv = 256 };
        var expected = File.ReadAllLines(Fixture("seed-configuration-phase1-metrics.csv"));
        var actual = new List<string> { expected[0] };
        using (var trainer = new PpoTrainer(options, i => new TaskEnvironment(new TaskEnvironmentOptions(), seed: i), CPU))
        {
            Assert.True(PpoTrainer.UsesHostLoss(options, trainer.Policy, CPU));
            trainer.Learn(1024, new OnUpdate(m => actual.Add(Row(m, trainer.Policy.Parameters.ValuesToArray()))));
        }
        Assert.Equal(2, actual.Count);
        var e = expected[1].Split(',');
        var a = actual[1].Split(',');
        for (var c = 0; c < e.Length - 1; c++)
        {
            var x = double.Parse(e[c], CultureInfo.InvariantCulture);
            var y = double.Parse(a[c], CultureInfo.InvariantCulture);
            Assert.True(Math.Abs(x - y) <= 1e-5 * Math.Max(Math.Abs(x), 1e-3), $"update 1, {expected[0].Split(',')[c]}: fixture {x}, host loss {y}");
        }
        Assert.NotEqual(e[^1], a[^1]);
    }

    [Fact]
    public void A_discrete_action_space_with_decay_early_stop_and_value_clipping_trains_bit_for_bit_as_before()
    {
        var options = new PpoOptions
        {
            NumEnvs = 4, StepsPerEnv = 32, MinibatchSize = 32, Epochs = 4, HiddenSizes = [32, 32], LearningRate = 3e-3, Seed = 11,
            LinearLearningRateDecay = true, TargetKl = 0.004, ValueClipRange = 0.2,
        };
        AssertSameMetrics("categorical-bandit-metrics.csv", options, i => new ContextualBandit(4, 100 + i), 128 * 5);
    }

    [Theory]
    [InlineData("v1-box-checkpoint")]
    [InlineData("v1-discrete-checkpoint")]
    public void A_version_1_checkpoint_loads_and_its_policy_answers_as_before(string name)
    {
        var expected = JsonDocument.Parse(File.ReadAllText(Fixture("v1-checkpoints-expected.json"))).RootElement.GetProperty(name);
        var checkpoint = PpoCheckpoint.Load(Fixture(name + ".bin"));
        Assert.Equal(expected.GetProperty("ParametersSha256").GetString(), Sha256(checkpoint.Parameters));
        Assert.Equal(expected.GetProperty("TotalSteps").GetInt64(), checkpoint.TotalSteps);
        Assert.Equal(expected.GetProperty("Updates").GetInt32(), checkpoint.Updates);
        Assert.Equal(expected.GetProperty("RandomState").EnumerateArray().Select(s => ulong.Parse(s.GetString()!, CultureInfo.InvariantCulture)), checkpoint.RandomState);

        using var policy = checkpoint.CreatePolicy(CPU);
        var observations = Floats(expected, "Observations");
        var rows = observations.Length / policy.Shape.ObservationSize;
        using var inference = new PolicyInference(policy, rows);
        var actions = new float[rows * policy.Distribution.ActionWidth];
        var logProbs = new float[rows];
        inference.Act(observations, actions, logProbs, deterministic: true, new SeededRandomSource(0));
        Assert.Equal(Floats(expected, "DeterministicActions"), actions);
        Assert.Equal(Floats(expected, "DeterministicLogProbs"), logProbs);
        Assert.Equal(Floats(expected, "Values"), inference.Values);
        inference.Act(observations, actions, logProbs, deterministic: false, new SeededRandomSource(expected.GetProperty("StochasticSeed").GetInt32()));
        Assert.Equal(Floats(expected, "StochasticActions"), actions);
        Assert.Equal(Floats(expected, "StochasticLogProbs"), logProbs);
    }

    [Fact]
    public void Training_resumes_from_a_version_1_checkpoint()
    {
        var options = new PpoOptions { NumEnvs = 2, StepsPerEnv = 16, MinibatchSize = 8, Epochs = 2, HiddenSizes = [4], Seed = 4 };
        var checkpoint = PpoCheckpoint.Load(Fixture("v1-box-checkpoint.bin"));
        Assert.Equal(options, checkpoint.Options with { HiddenSizes = options.HiddenSizes });
        using var trainer = new PpoTrainer(checkpoint.Options, i => new TargetReaching(i), CPU);
        trainer.Restore(checkpoint);
        Assert.Equal(checkpoint.Parameters, trainer.Policy.Parameters.ValuesToArray());
        Assert.Equal(TrainingOutcome.Completed, trainer.Learn(96));
        Assert.Equal(96, trainer.TotalSteps);
        Assert.Equal(3, trainer.Updates);
        Assert.NotEqual(checkpoint.Parameters, trainer.Policy.Parameters.ValuesToArray());
    }

    private static void AssertSameMetrics(string fixture, PpoOptions options, Func<int, IEnv> makeEnv, long steps)
    {
        var expected = File.ReadAllLines(Fixture(fixture));
        var actual = new List<string> { expected[0] };
        using var trainer = new PpoTrainer(options, makeEnv, CPU);
        trainer.Learn(steps, new OnUpdate(m => actual.Add(Row(m, trainer.Policy.Parameters.ValuesToArray()))));
        Assert.Equal(expected.Length, actual.Count);
        for (var i = 1; i < expected.Length; i++)
            Assert.True(expected[i] == actual[i], $"update {i} differs from the fixture:\nexpected {expected[i]}\nactual   {actual[i]}");
    }

    private static string Row(UpdateMetrics m, float[] parameters)
    {
        static string R(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        return string.Join(",", m.Step, R(m.EpisodeRewardMean), R(m.EpisodeLengthMean), R(m.PolicyLoss), R(m.ValueLoss), R(m.EntropyLoss),
            R(m.ApproxKl), R(m.ClipFraction), R(m.ExplainedVariance), R(m.LogStdMean), R(m.LearningRate), m.GradientSteps, m.StoppedEarly ? 1 : 0,
            Sha256(parameters));
    }

    private static string Sha256(float[] values) =>
        Convert.ToHexString(SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())));

    private static float[] Floats(JsonElement element, string name) =>
        [.. element.GetProperty(name).EnumerateArray().Select(e => e.GetSingle())];

    private sealed class OnUpdate(Action<UpdateMetrics> action) : ITrainingCallback
    {
        public TrainingDecision OnUpdateEnd(ITrainingContext training, UpdateMetrics metrics)
        {
            action(metrics);
            return TrainingDecision.Continue;
        }
    }
}
