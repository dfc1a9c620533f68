using TorchSharp;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo.Tests;

public class FlatAdamTests
{
    private static readonly float Subnormal = BitConverter.Int32BitsToSingle(0x0000_1234);

    [Fact]
    public void The_second_moment_floor_is_two_to_the_minus_94_for_the_seed_epsilon_and_zero_when_eps_is_too_small_for_any()
    {
        Assert.Equal(Math.ScaleB(1.0, -94), FlatAdam.SecondMomentFloorFor(1e-5, 0.999));
        Assert.Equal(Math.ScaleB(1.0, -114), FlatAdam.SecondMomentFloorFor(1e-8, 0.999));
        Assert.Equal(0, FlatAdam.SecondMomentFloorFor(1e-30, 0.999));
    }

    [Theory]
    [InlineData(1e-5, 0L)]
    [InlineData(1e-5, 155_999L)]
    [InlineData(1e-8, 0L)]
    [InlineData(1.0, 0L)]
    public void A_step_is_bit_identical_to_torch_adams_formula_for_zero_subnormal_tiny_and_ordinary_second_moments(double epsilon, long stepsBefore)
    {
        // An ordinary weight, then second moments at 0, subnormal, tiny (below and just above the floor)
        // and gradients whose square lands there. The weights are 0 and the first moments ordinary so
        // that any change of the denominator, even in its last bit, shows in the weight. The last three
        // columns are dead weights (zero gradient, subnormal first moment): one large enough that the
        // step cannot move it, one so small that it does, and a negative one. Repeated to fill a vector
        // of the fused CPU loop twice over, with the rest in its scalar tail.
        float[] gradient = [1e-3f, -0.5f, 0, 0, 0, 0, 0, 1e-18f, 3e-20f, 2e-16f, 0, 0, 0, 0];
        float[] first = [2e-4f, -0.1f, 1e-3f, Subnormal, -2e-3f, 1e-30f, 5e-4f, 0, 7e-4f, 1e-17f, 3e-3f, Subnormal, -1.1e-38f, Subnormal];
        float[] second = [1e-6f, 0.2f, 0, 0, Subnormal, 1e-33f, 4e-29f, 0, Subnormal, 7e-31f, 1e-20f, Subnormal, 1e-25f, 0];
        float[] weights = [0.25f, -1.5f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.75f, 1e-30f, -2];
        (gradient, first, second, weights) = (Twice(gradient), Twice(first), Twice(second), Twice(weights));
        using var parameters = new FlatParameters([("w", [weights.Length])], CPU);
        parameters.LoadValues(weights);
        HostTransfer.CopyToDevice<float>(gradient, parameters.Gradients);
        using var adam = new FlatAdam(parameters, epsilon);
        adam.Load(first, second, stepsBefore);

        using var p = tensor(weights);
        using var g = tensor(gradient);
        using var m = tensor(first);
        using var v = tensor(second);
        for (var step = 1; step <= 3; step++)
        {
            adam.Step(learningRate: 3e-4);
            TorchAdamStep(p, g, m, v, stepsBefore + step, 3e-4, epsilon);
        }

        Assert.Equal(Bits(p), Bits(parameters.Values));
        Assert.Equal(Bits(m), Bits(adam.FirstMoment));
        Assert.Equal(Bits(v), Bits(adam.SecondMoment));
    }

    [Fact]
    public void The_fused_cpu_step_gives_the_same_bits_as_the_torch_ops()
    {
        // An odd length so both the vector loop and the scalar tail run; a fifth of the weights dead, as in training.
        const int count = 10_007;
        var random = new RLWorkbench.Gym.Random.SeededRandomSource(11);
        var weights = new float[count];
        var gradient = new float[count];
        Gaussian.Fill(random, weights);
        Gaussian.Fill(random, gradient);
        for (var i = 0; i < count; i++)
            gradient[i] = i % 5 == 0 ? 0 : gradient[i] * 1e-2f;
        using var fusedParameters = new FlatParameters([("w", [count])], CPU);
        using var torchParameters = new FlatParameters([("w", [count])], CPU);
        using var fused = new FlatAdam(fusedParameters, 1e-5);
        using var torchOps = new FlatAdam(torchParameters, 1e-5, fusedOnCpu: false);
        foreach (var parameters in new[] { fusedParameters, torchParameters })
        {
            parameters.LoadValues(weights);
            HostTransfer.CopyToDevice<float>(gradient, parameters.Gradients);
        }
        for (var step = 0; step < 25; step++)
        {
            fused.Step(3e-4);
            torchOps.Step(3e-4);
        }
        Assert.Equal(Bits(torchParameters.Values), Bits(fusedParameters.Values));
        Assert.Equal(Bits(torchOps.FirstMoment), Bits(fused.FirstMoment));
        Assert.Equal(Bits(torchOps.SecondMoment), Bits(fused.SecondMoment));
    }

    /// <summary>torch.optim.Adam's single-tensor step (no weight decay, no amsgrad), op for op.</summary>
    private static void TorchAdamStep(Tensor p, Tensor g, Tensor m, Tensor v, long t, double lr, double eps)
    {
        using var weight = tensor(0.1f);
        using var beta2 = 0.999.ToScalar();
        using var secondWeight = (1 - 0.999).ToScalar();
        using var correction2 = Math.Sqrt(1 - Math.Pow(0.999, t)).ToScalar();
        using var epsilon = eps.ToScalar();
        using var stepSize = (-lr / (1 - Math.Pow(0.9, t))).ToScalar();
        m.lerp_(g, weight);
        v.mul_(beta2).addcmul_(g, g, secondWeight);
        using var denominator = v.sqrt().div_(correction2).add_(epsilon);
        p.addcdiv_(m, denominator, stepSize);
    }

    private static float[] Twice(float[] values) => [.. values, .. values];

    private static int[] Bits(Tensor t) => [.. HostTransfer.ToArray(t).Select(BitConverter.SingleToInt32Bits)];
}
