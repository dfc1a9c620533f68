using RLWorkbench.Gym.Random;
using TorchSharp;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo.Tests;

public class ThreadCountTests
{
    /// <summary>
    /// What lets <see cref="UpdateThreadTuner"/> switch thread counts mid-run: with the seed network's sizes
    /// (obs 67, Box 12, [256, 256, 128], minibatch 64), libtorch and MKL split work across threads without
    /// changing any sum's order, so an update step gives the same bits on one thread or two.
    /// </summary>
    [Fact]
    public void One_and_two_libtorch_threads_give_the_same_bits_for_the_seed_network_update()
    {
        var before = get_num_threads();
        try
        {
            Assert.Equal(TrainOnSeedNetwork(threads: 1), TrainOnSeedNetwork(threads: 2));
        }
        finally
        {
            set_num_threads(before);
        }
    }

    [Theory]
    [InlineData(null, 2, 2)]
    [InlineData("1", 2, 1)]
    [InlineData("4", 2, 2)]
    [InlineData("3", 8, 3)]
    [InlineData("", 2, 2)]
    [InlineData("many", 2, 2)]
    public void A_launchers_omp_num_threads_bounds_the_threads_a_run_may_use(string? ompNumThreads, int cores, int expected) =>
        Assert.Equal(expected, ComputeDevice.ThreadsAvailable(ompNumThreads, cores));

    [Fact]
    public void Only_a_run_with_two_cores_and_minibatches_whose_sums_cannot_change_gets_a_tuner()
    {
        Assert.True(ComputeDevice.TunesThreads(new PpoOptions(), threadsAvailable: 2));
        Assert.False(ComputeDevice.TunesThreads(new PpoOptions(), threadsAvailable: 1));
        Assert.True(ComputeDevice.TunesThreads(new PpoOptions { MinibatchSize = 32_768 }, threadsAvailable: 2));
        Assert.False(ComputeDevice.TunesThreads(new PpoOptions { MinibatchSize = 32_769 }, threadsAvailable: 2));
    }

    private static int[] TrainOnSeedNetwork(int threads)
    {
        set_num_threads(threads);
        var shape = new PolicyShape(67, ActionKind.Continuous, 12, new float[12], Enumerable.Repeat(1f, 12).ToArray());
        using var policy = new ActorCritic(shape, [256, 256, 128], CPU, new SeededRandomSource(3));
        using var adam = new FlatAdam(policy.Parameters, 1e-5);
        var random = new SeededRandomSource(4);
        var data = new float[64 * (67 + 12 + 2)];
        Gaussian.Fill(random, data);
        using var batch = tensor(data, [64, 81]);
        using var obs = batch.narrow(1, 0, 67);
        using var act = batch.narrow(1, 67, 12);
        using var oldLogProb = batch.select(1, 79);
        using var advantages = batch.select(1, 80);
        for (var step = 0; step < 5; step++)
        {
            using var scope = NewDisposeScope();
            var (logProb, entropy, value) = policy.Evaluate(obs, act);
            var (surrogate, _, _) = PpoLoss.ClippedSurrogate(logProb, oldLogProb, PpoLoss.NormalizeAdvantages(advantages), 0.2);
            var loss = surrogate + PpoLoss.ValueLoss(value, advantages, value.detach(), null) - entropy.mean();
            policy.Parameters.ZeroGradients();
            loss.backward();
            GradientClipping.ClipGlobalNorm(policy.Parameters.Gradients, 0.5);
            adam.Step(3e-4);
        }
        return [.. policy.Parameters.ValuesToArray().Select(BitConverter.SingleToInt32Bits)];
    }
}
