namespace RLWorkbench.Ppo;

/// <summary>What one minibatch's loss came to, as the update logs it.</summary>
public readonly record struct MinibatchLosses(double Policy, double Value, double EntropyLoss, double ClipFraction, double ApproxKl);

/// <summary>
/// The seed's PPO loss (diagonal Gaussian with a free log std, SB3's clipped surrogate, MSE value loss, entropy bonus) and its
/// gradient with respect to the network's outputs (the means, the values) and the log std, computed on the host.
/// Why: on the CPU a minibatch step is about 1.6 ms, and the loss's two dozen tiny tensor ops and their backward nodes cost
/// a dispatch each; computing them here in plain arithmetic and handing autograd only the outputs' gradients leaves it the
/// network alone. The formulas are the same as <see cref="PpoLoss"/> and <see cref="DiagonalGaussian"/>, including
/// torch's gradient conventions at the kinks (minimum splits a tie in half, clamp passes the gradient at its bounds);
/// results differ from the tensor path only by rounding (the host works in double).
/// </summary>
public sealed class HostGaussianLoss(int batchSize, int actionWidth)
{
    private readonly double[] logProb = new double[batchSize];
    private readonly double[] advantage = new double[batchSize];
    private readonly double[] inverseStd = new double[actionWidth];
    private readonly double[] precision = new double[actionWidth];

    public int BatchSize => batchSize;

    public int ActionWidth => actionWidth;

    /// <summary>
    /// Fills the gradients of loss = policy + entropyCoefficient x entropy loss + valueCoefficient x value loss.
    /// Inputs are row-major: <paramref name="mean"/> and <paramref name="actions"/> [B, d], the rest [B] (log std [d]).
    /// </summary>
    public MinibatchLosses Compute(
        ReadOnlySpan<float> mean, ReadOnlySpan<float> logStd, ReadOnlySpan<float> values,
        ReadOnlySpan<float> actions, ReadOnlySpan<float> oldLogProb, ReadOnlySpan<float> advantages, ReadOnlySpan<float> returns, ReadOnlySpan<float> oldValues,
        PpoLossSettings settings,
        Span<float> meanGradient, Span<float> valueGradient, Span<float> logStdGradient)
    {
        var b = batchSize;
        var d = actionWidth;
        var logStdSum = 0.0;
        for (var j = 0; j < d; j++)
        {
            logStdSum += logStd[j];
            // Once per minibatch, not once per element: every row shares the free log std.
            inverseStd[j] = Math.Exp(-logStd[j]);
            precision[j] = Math.Exp(-2.0 * logStd[j]);
        }
        var constant = logStdSum + DiagonalGaussian.HalfLog2Pi * d;

        for (var i = 0; i < b; i++)
        {
            var squares = 0.0;
            for (var j = 0; j < d; j++)
            {
                var z = (actions[i * d + j] - (double)mean[i * d + j]) * inverseStd[j];
                squares += z * z;
            }
            logProb[i] = -0.5 * squares - constant;
        }

        NormaliseAdvantages(advantages, settings.NormalizeAdvantage);

        // The clipped surrogate -mean(min(r A, clip(r) A)) and d loss / d log p = d loss / d r x r.
        var low = 1 - settings.ClipRange;
        var high = 1 + settings.ClipRange;
        double policySum = 0, clipped = 0, kl = 0;
        logStdGradient.Clear();
        for (var i = 0; i < b; i++)
        {
            var logRatio = logProb[i] - oldLogProb[i];
            var r = Math.Exp(logRatio);
            var a = advantage[i];
            var unclippedTerm = a * r;
            var clippedTerm = a * Math.Clamp(r, low, high);
            policySum += Math.Min(unclippedTerm, clippedTerm);
            if (Math.Abs(r - 1) > settings.ClipRange)
                clipped++;
            kl += r - 1 - logRatio;

            var inBand = r >= low && r <= high;
            // torch.minimum sends a tie's gradient half to each side; clamp passes it only inside [low, high].
            var throughUnclipped = unclippedTerm < clippedTerm ? 1.0 : unclippedTerm == clippedTerm ? 0.5 : 0.0;
            var throughClipped = (clippedTerm < unclippedTerm ? 1.0 : unclippedTerm == clippedTerm ? 0.5 : 0.0) * (inBand ? 1.0 : 0.0);
            var dLogProb = -(throughUnclipped + throughClipped) * a * r / b;
            for (var j = 0; j < d; j++)
            {
                var diff = actions[i * d + j] - (double)mean[i * d + j];
                // d log p / d mean = (a - mean) / sigma^2; d log p / d log sigma = z^2 - 1.
                meanGradient[i * d + j] = (float)(dLogProb * diff * precision[j]);
                logStdGradient[j] += (float)(dLogProb * (diff * diff * precision[j] - 1));
            }
        }

        // The entropy is sum(log std) + constant for every row, so -mean(entropy) has gradient -1 per log std.
        var entropy = logStdSum + (0.5 + DiagonalGaussian.HalfLog2Pi) * d;
        for (var j = 0; j < d; j++)
            logStdGradient[j] -= (float)settings.EntropyCoefficient;

        double valueSum = 0;
        for (var i = 0; i < b; i++)
        {
            double predicted = values[i];
            var passes = 1.0;
            if (settings.ValueClipRange is { } c)
            {
                var change = values[i] - (double)oldValues[i];
                passes = change >= -c && change <= c ? 1.0 : 0.0;
                predicted = oldValues[i] + Math.Clamp(change, -c, c);
            }
            var error = predicted - returns[i];
            valueSum += error * error;
            valueGradient[i] = (float)(settings.ValueCoefficient * 2.0 * error * passes / b);
        }

        return new MinibatchLosses(-policySum / b, valueSum / b, -entropy, clipped / b, kl / b);
    }

    /// <summary>(A - mean) / (unbiased std + 1e-8); a single advantage is used as it is, as <see cref="PpoLoss.NormalizeAdvantages"/>.</summary>
    private void NormaliseAdvantages(ReadOnlySpan<float> advantages, bool normalise)
    {
        var b = batchSize;
        if (!normalise || b <= 1)
        {
            for (var i = 0; i < b; i++)
                advantage[i] = advantages[i];
            return;
        }
        var sum = 0.0;
        for (var i = 0; i < b; i++)
            sum += advantages[i];
        var average = sum / b;
        var squares = 0.0;
        for (var i = 0; i < b; i++)
            squares += (advantages[i] - average) * (advantages[i] - average);
        var std = Math.Sqrt(squares / (b - 1));
        for (var i = 0; i < b; i++)
            advantage[i] = (advantages[i] - average) / (std + 1e-8);
    }
}

/// <summary>The loss settings the host computation needs from <see cref="PpoOptions"/>.</summary>
public readonly record struct PpoLossSettings(double ClipRange, double? ValueClipRange, bool NormalizeAdvantage, double EntropyCoefficient, double ValueCoefficient);

/// <summary>
/// The host arrays one minibatch's loss reads and writes, allocated once per trainer, and the tensors its gradients reach
/// autograd through: the means' and values' gradients as tensors, the log std's as its slice of the flat gradient.
/// </summary>
internal sealed class HostLossBuffers : IDisposable
{
    public HostLossBuffers(ActorCritic policy, int batchSize, int actionWidth)
    {
        Head = new float[batchSize * actionWidth];
        Actions = new float[batchSize * actionWidth];
        Mean = new float[batchSize * actionWidth];
        ValueOut = new float[batchSize];
        OldLogProb = new float[batchSize];
        Advantages = new float[batchSize];
        Returns = new float[batchSize];
        OldValues = new float[batchSize];
        Value = new float[batchSize];
        LogStdValues = new float[actionWidth];
        LogStd = new float[actionWidth];
        MeanTensor = TorchSharp.torch.zeros([batchSize, actionWidth], TorchSharp.torch.ScalarType.Float32, policy.Device);
        ValueTensor = TorchSharp.torch.zeros([batchSize], TorchSharp.torch.ScalarType.Float32, policy.Device);
        var logStd = policy.Parameters.Parameters.First(p => p.Leaf.Handle == policy.StateIndependent!.Handle);
        LogStdSlice = policy.Parameters.Gradients.narrow(0, logStd.Offset, logStd.Count);
    }

    public float[] Head { get; }

    public float[] Actions { get; }

    public float[] ValueOut { get; }

    public float[] OldLogProb { get; }

    public float[] Advantages { get; }

    public float[] Returns { get; }

    public float[] OldValues { get; }

    public float[] LogStdValues { get; }

    /// <summary>Gradient of the loss with respect to the means [B, d].</summary>
    public float[] Mean { get; }

    /// <summary>Gradient of the loss with respect to the values [B].</summary>
    public float[] Value { get; }

    /// <summary>Gradient of the loss with respect to the log std [d].</summary>
    public float[] LogStd { get; }

    public TorchSharp.torch.Tensor MeanTensor { get; }

    public TorchSharp.torch.Tensor ValueTensor { get; }

    public TorchSharp.torch.Tensor LogStdSlice { get; }

    public void Dispose()
    {
        MeanTensor.Dispose();
        ValueTensor.Dispose();
        LogStdSlice.Dispose();
    }
}
