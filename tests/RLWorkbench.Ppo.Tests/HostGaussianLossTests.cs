using RLWorkbench.Gym.Random;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo.Tests;

/// <summary>The host loss against the tensor path it replaces on the CPU: the same losses and the same gradients, up to rounding.</summary>
public class HostGaussianLossTests
{
    [Theory]
    [InlineData(64, 12, 0.2, null, true, 0.0)]
    [InlineData(64, 12, 0.2, 0.5, true, 0.01)]
    [InlineData(17, 3, 0.1, 0.05, false, 0.5)]
    [InlineData(1, 4, 0.2, null, true, 0.0)]
    public void Losses_and_gradients_match_the_tensor_path(int b, int d, double clipRange, double? valueClip, bool normalise, double entropyCoefficient)
    {
        var random = new SeededRandomSource(b * 31 + d);
        float[] Draw(int n, double scale, double shift = 0) => [.. Enumerable.Range(0, n).Select(_ => (float)(shift + scale * (2 * random.Random() - 1)))];
        var mean = Draw(b * d, 1.5);
        var logStd = Draw(d, 0.7);
        var values = Draw(b, 3);
        var actions = Draw(b * d, 2);
        var advantages = Draw(b, 2, 0.3);
        var returns = Draw(b, 3);
        var oldValues = Draw(b, 3);
        // Old log-probabilities around the current ones, so ratios fall inside, below and above the clip band.
        var oldLogProb = new float[b];
        for (var i = 0; i < b; i++)
        {
            var squares = 0.0;
            for (var j = 0; j < d; j++)
            {
                var z = (actions[i * d + j] - mean[i * d + j]) * Math.Exp(-logStd[j]);
                squares += z * z;
            }
            var logProb = -0.5 * squares - logStd.Sum(x => (double)x) - DiagonalGaussian.HalfLog2Pi * d;
            oldLogProb[i] = (float)(logProb + (i % 3 == 0 ? 0.05 : 0.6) * (2 * random.Random() - 1));
        }
        var settings = new PpoLossSettings(clipRange, valueClip, normalise, entropyCoefficient, 0.5);

        var meanGradient = new float[b * d];
        var valueGradient = new float[b];
        var logStdGradient = new float[d];
        var host = new HostGaussianLoss(b, d).Compute(mean, logStd, values, actions, oldLogProb, advantages, returns, oldValues, settings,
            meanGradient, valueGradient, logStdGradient);

        using var scope = NewDisposeScope();
        var meanT = tensor(mean).reshape(b, d).requires_grad_(true);
        var logStdT = tensor(logStd).requires_grad_(true);
        var valuesT = tensor(values).requires_grad_(true);
        var logProbT = DiagonalGaussian.LogProb(tensor(actions).reshape(b, d), meanT, logStdT);
        var adv = normalise ? PpoLoss.NormalizeAdvantages(tensor(advantages)) : tensor(advantages);
        var (policyLoss, clipFraction, approxKl) = PpoLoss.ClippedSurrogate(logProbT, tensor(oldLogProb), adv, clipRange);
        var valueLoss = PpoLoss.ValueLoss(valuesT, tensor(returns), tensor(oldValues), valueClip);
        var entropyLoss = DiagonalGaussian.Entropy(logStdT).expand(b).mean().neg();
        var loss = policyLoss + entropyLoss * entropyCoefficient + valueLoss * 0.5;
        loss.backward();

        Assert.Equal(policyLoss.item<float>(), host.Policy, 4);
        Assert.Equal(valueLoss.item<float>(), host.Value, 3);
        Assert.Equal(entropyLoss.item<float>(), host.EntropyLoss, 4);
        Assert.Equal(clipFraction.item<float>(), host.ClipFraction, 6);
        Assert.Equal(approxKl.item<float>(), host.ApproxKl, 5);
        // Some ratios must be clipped for the test to cover the kink (b = 1 has one ratio, inside the band).
        if (b > 1)
            Assert.InRange(host.ClipFraction, 0.1, 0.9);
        AssertClose(meanT.grad!.data<float>().ToArray(), meanGradient);
        AssertClose(valuesT.grad!.data<float>().ToArray(), valueGradient);
        AssertClose(logStdT.grad!.data<float>().ToArray(), logStdGradient);
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = Math.Max(expected.Max(x => Math.Abs(x)), 1e-6f);
        for (var k = 0; k < expected.Length; k++)
            Assert.True(Math.Abs(expected[k] - actual[k]) <= 1e-4 * scale + 1e-7, $"element {k}: tensor path {expected[k]}, host {actual[k]}");
    }
}
