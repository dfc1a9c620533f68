using TorchSharp;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo;

/// <summary>
/// torch.optim.Adam (no weight decay, no amsgrad) over one flat parameter tensor: the same update as
/// PyTorch's single-tensor path, in six ops for the whole network instead of six per layer.
/// </summary>
public sealed class FlatAdam : IDisposable
{
    private readonly Tensor values;
    private readonly Tensor gradients;

    public FlatAdam(FlatParameters parameters, double epsilon, double beta1 = 0.9, double beta2 = 0.999)
    {
        values = parameters.Values;
        gradients = parameters.Gradients;
        Epsilon = epsilon;
        Beta1 = beta1;
        Beta2 = beta2;
        FirstMoment = zeros_like(values);
        SecondMoment = zeros_like(values);
    }

    public double Epsilon { get; }

    public double Beta1 { get; }

    public double Beta2 { get; }

    /// <summary>Steps taken so far (the bias correction depends on it).</summary>
    public long StepCount { get; private set; }

    public Tensor FirstMoment { get; }

    public Tensor SecondMoment { get; }

    public void Step(double learningRate)
    {
        StepCount++;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        FirstMoment.lerp_(gradients, 1 - Beta1);
        SecondMoment.mul_(Beta2).addcmul_(gradients, gradients, 1 - Beta2);
        var biasCorrection1 = 1 - Math.Pow(Beta1, StepCount);
        var biasCorrection2 = 1 - Math.Pow(Beta2, StepCount);
        var denominator = SecondMoment.sqrt().div_(Math.Sqrt(biasCorrection2)).add_(Epsilon);
        values.addcdiv_(FirstMoment, denominator, -learningRate / biasCorrection1);
    }

    /// <summary>Restores a saved state (moments as flat arrays and the step count).</summary>
    public void Load(ReadOnlySpan<float> firstMoment, ReadOnlySpan<float> secondMoment, long stepCount)
    {
        HostTransfer.CopyToDevice(firstMoment, FirstMoment);
        HostTransfer.CopyToDevice(secondMoment, SecondMoment);
        StepCount = stepCount;
    }

    /// <summary>Puts back moments and step count copied earlier (an interrupted update is undone with it).</summary>
    public void RestoreFrom(Tensor firstMoment, Tensor secondMoment, long stepCount)
    {
        using var noGrad = no_grad();
        FirstMoment.copy_(firstMoment);
        SecondMoment.copy_(secondMoment);
        StepCount = stepCount;
    }

    public void Dispose()
    {
        FirstMoment.Dispose();
        SecondMoment.Dispose();
    }
}

/// <summary>torch.nn.utils.clip_grad_norm_ over a flat gradient.</summary>
public static class GradientClipping
{
    /// <summary>Scales the gradient so its global 2-norm is at most <paramref name="maxNorm"/>; returns the norm before clipping, on the device.</summary>
    public static Tensor ClipGlobalNorm(Tensor gradients, double maxNorm)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var norm = gradients.norm();
        // Same formula as PyTorch: the 1e-6 keeps a zero gradient finite, the clamp never scales up.
        var coefficient = (norm + 1e-6).reciprocal_().mul_(maxNorm).clamp_max_(1.0);
        gradients.mul_(coefficient);
        return norm.MoveToOuterDisposeScope();
    }
}
