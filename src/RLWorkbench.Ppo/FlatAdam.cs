using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo;

/// <summary>
/// torch.optim.Adam (no weight decay, no amsgrad) over one flat parameter tensor: the same update as
/// PyTorch's single-tensor path, in a handful of ops for the whole network instead of per layer. On the
/// CPU the elementwise arithmetic runs as two fused passes over the moments (see <see cref="CpuStep"/>),
/// bit for bit the numbers the torch ops give.
/// </summary>
public sealed class FlatAdam : IDisposable
{
    private readonly Tensor values;
    private readonly Tensor gradients;

    // lerp_ takes its weight as a tensor; one made here and kept for the optimizer's life, rather than
    // a temporary that only the garbage collector would free.
    private readonly Tensor firstMomentWeight;

    // Held for the optimizer's life for the same reason as every scalar here (docs/ppo.md, "Scalars").
    private readonly Scalar secondMomentFloor;

    // The CPU path's square roots of the floored second moment; null on other devices or when the torch ops are asked for.
    private readonly Tensor? roots;

    /// <param name="fusedOnCpu">False keeps the torch ops on the CPU too (the tests' reference).</param>
    public FlatAdam(FlatParameters parameters, double epsilon, double beta1 = 0.9, double beta2 = 0.999, bool fusedOnCpu = true)
    {
        values = parameters.Values;
        gradients = parameters.Gradients;
        Epsilon = epsilon;
        Beta1 = beta1;
        Beta2 = beta2;
        FirstMoment = zeros_like(values);
        firstMomentWeight = tensor(1 - beta1, ScalarType.Float32, values.device);
        SecondMoment = zeros_like(values);
        SecondMomentFloor = SecondMomentFloorFor(epsilon, beta2);
        secondMomentFloor = SecondMomentFloor.ToScalar();
        unmovedBySubnormalSteps = UnmovedBySubnormalSteps(epsilon);
        if (fusedOnCpu && values.device_type == DeviceType.CPU)
            roots = zeros_like(values);
    }

    public double Epsilon { get; }

    public double Beta1 { get; }

    public double Beta2 { get; }

    /// <summary>Steps taken so far (the bias correction depends on it).</summary>
    public long StepCount { get; private set; }

    public Tensor FirstMoment { get; }

    public Tensor SecondMoment { get; }

    /// <summary>What the second moment is raised to before its square root (see <see cref="SecondMomentFloorFor"/>).</summary>
    public double SecondMomentFloor { get; }

    /// <summary>
    /// libtorch's CPU sqrt is MKL's, which handles every input below about 2^-103 (zero, subnormal, tiny)
    /// on a slow path one element at a time: 7x slower for exact zeros, 40x for subnormals. Weights behind
    /// dead ReLU units get exactly-zero gradients, so their second moments start at 0 and decay into the
    /// subnormal range, where they stay (a fifth of them after 1M steps). Raising v to this floor first
    /// keeps MKL on its fast path without changing a bit of the step: for any v below the floor,
    /// sqrt(v) / sqrt(1 - beta2^t) is under half an ulp of eps even at t = 1, so the denominator rounds to
    /// eps whether v or the floor goes in. The floor is the largest power of two with that property, at a
    /// factor of two to spare (2^-94 for eps 1e-5); an eps so small that no normal float qualifies gets 0.
    /// </summary>
    public static double SecondMomentFloorFor(double epsilon, double beta2)
    {
        var halfUlpOfEpsilon = Math.ScaleB(1.0, Math.ILogB((float)epsilon) - 24);
        var bound = halfUlpOfEpsilon * halfUlpOfEpsilon * (1 - beta2) / 4;
        var floor = Math.ScaleB(1.0, Math.ILogB(bound));
        return floor >= SmallestNormalFloat ? floor : 0;
    }

    private const double SmallestNormalFloat = 1.1754943508222875e-38;

    private const float SmallestNormal = 1.17549435e-38f;

    // See CpuStep: weights at least this large in magnitude cannot be moved by a subnormal step.
    private readonly float unmovedBySubnormalSteps;

    /// <summary>
    /// A power of two p such that any |x| below the smallest normal float, divided by a denominator of at
    /// least eps, stays under half an ulp of p even after rounding, so p + x / d rounds back to p (2^-84 for
    /// eps 1e-5). Half an ulp of p is p 2^-24; the quotient is below 2^(k + 1) with k = ILogB(min / eps),
    /// and one more factor of two keeps it off the tie.
    /// </summary>
    private static float UnmovedBySubnormalSteps(double epsilon) =>
        (float)Math.ScaleB(1.0, Math.ILogB(SmallestNormalFloat / (float)epsilon) + 26);

    public void Step(double learningRate)
    {
        StepCount++;
        var biasCorrection1 = 1 - Math.Pow(Beta1, StepCount);
        var biasCorrection2 = 1 - Math.Pow(Beta2, StepCount);
        if (roots is not null)
            CpuStep(roots, (float)(-learningRate / biasCorrection1), (float)Math.Sqrt(biasCorrection2));
        else
            TorchStep(-learningRate / biasCorrection1, Math.Sqrt(biasCorrection2));
    }

    private void TorchStep(double stepSize, double correction2)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // Explicit scalars held to the end of the step (docs/ppo.md, "Scalars"): a bare double becomes a
        // Scalar that only the GC frees, and its finalizer can race libtorch reading it.
        using var beta2 = Beta2.ToScalar();
        using var secondWeight = (1 - Beta2).ToScalar();
        using var correction = correction2.ToScalar();
        using var epsilon = Epsilon.ToScalar();
        using var step = stepSize.ToScalar();
        FirstMoment.lerp_(gradients, firstMomentWeight);
        SecondMoment.mul_(beta2).addcmul_(gradients, gradients, secondWeight);
        using var one = 1.0.ToScalar();
        var denominator = SecondMoment.clamp_min(secondMomentFloor).sqrt_().div_(correction).add_(epsilon, one);
        values.addcdiv_(FirstMoment, denominator, step);
    }

    /// <summary>
    /// <see cref="TorchStep"/> as two passes over the flat buffers instead of eight ops (each a pass over
    /// 234k floats and a dispatch). Every element gets the arithmetic libtorch's kernels do, with the same
    /// roundings: lerp as fma(w, g - m, m), addcmul as fma(w g, g, beta2 v) (libtorch is built with
    /// contraction), addcdiv as p + (s m) / d. The square root stays libtorch's: MKL's is not correctly
    /// rounded (it differs from the hardware's in about one element in six), so only it gives the same bits.
    /// </summary>
    private void CpuStep(Tensor rootBuffer, float stepSize, float correction2)
    {
        var length = (int)values.numel();
        ref var p = ref Floats(values);
        ref var g = ref Floats(gradients);
        ref var m = ref Floats(FirstMoment);
        ref var v = ref Floats(SecondMoment);
        ref var r = ref Floats(rootBuffer);
        var w1 = (float)(1 - Beta1);
        var beta2 = (float)Beta2;
        var w2 = (float)(1 - Beta2);
        var floor = (float)SecondMomentFloor;
        var epsilon = (float)Epsilon;
        var width = Vector256<float>.Count;
        var vectorEnd = Vector256.IsHardwareAccelerated ? length - length % width : 0;
        // The processor takes a slow microcode path for a multiply or divide that meets a subnormal, and
        // most first moments of a long run are subnormal (weights behind dead units). An FMA has no such
        // path, and fma(a, b, -0) is exactly a * b, so the multiplies are written as FMAs; a subnormal
        // s m divided by d >= eps moves no weight of magnitude unmovedBySubnormalSteps or more, so for
        // those the quotient is skipped (the weight is left as the division would have left it).
        var negativeZero = Vector256.Create(-0f);

        for (var i = 0; i < vectorEnd; i += width)
        {
            var at = (nuint)i;
            var gi = Vector256.LoadUnsafe(ref g, at);
            var mi = Vector256.LoadUnsafe(ref m, at);
            var vi = Vector256.LoadUnsafe(ref v, at);
            mi = Vector256.FusedMultiplyAdd(Vector256.Create(w1), gi - mi, mi);
            var decayed = Vector256.FusedMultiplyAdd(vi, Vector256.Create(beta2), negativeZero);
            vi = Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(Vector256.Create(w2), gi, negativeZero), gi, decayed);
            mi.StoreUnsafe(ref m, at);
            vi.StoreUnsafe(ref v, at);
            Vector256.Max(vi, Vector256.Create(floor)).StoreUnsafe(ref r, at);
        }
        for (var i = vectorEnd; i < length; i++)
        {
            ref var mi = ref Unsafe.Add(ref m, i);
            ref var vi = ref Unsafe.Add(ref v, i);
            var gi = Unsafe.Add(ref g, i);
            mi = MathF.FusedMultiplyAdd(w1, gi - mi, mi);
            vi = MathF.FusedMultiplyAdd(w2 * gi, gi, vi * beta2);
            Unsafe.Add(ref r, i) = MathF.Max(vi, floor);
        }

        rootBuffer.sqrt_();

        for (var i = 0; i < vectorEnd; i += width)
        {
            var at = (nuint)i;
            var pi = Vector256.LoadUnsafe(ref p, at);
            var denominator = Vector256.LoadUnsafe(ref r, at) / Vector256.Create(correction2) + Vector256.Create(epsilon);
            var scaled = Vector256.FusedMultiplyAdd(Vector256.Create(stepSize), Vector256.LoadUnsafe(ref m, at), negativeZero);
            var negligible = Vector256.LessThan(Vector256.Abs(scaled), Vector256.Create(SmallestNormal))
                & Vector256.GreaterThanOrEqual(Vector256.Abs(pi), Vector256.Create(unmovedBySubnormalSteps));
            scaled = Vector256.ConditionalSelect(negligible, Vector256<float>.Zero, scaled);
            (pi + scaled / denominator).StoreUnsafe(ref p, at);
        }
        for (var i = vectorEnd; i < length; i++)
            Unsafe.Add(ref p, i) += stepSize * Unsafe.Add(ref m, i) / (Unsafe.Add(ref r, i) / correction2 + epsilon);
    }

    // The first float of a contiguous CPU tensor; the tensors live as long as the optimizer, so the reference stays valid.
    private static ref float Floats(Tensor tensor) => ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, float>(tensor.bytes));

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
        firstMomentWeight.Dispose();
        secondMomentFloor.Dispose();
        roots?.Dispose();
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
        using var tiny = 1e-6.ToScalar();
        using var max = maxNorm.ToScalar();
        using var one = 1.0.ToScalar();
        var coefficient = norm.add(tiny, one).reciprocal_().mul_(max).clamp_max_(one);
        gradients.mul_(coefficient);
        return norm.MoveToOuterDisposeScope();
    }
}
