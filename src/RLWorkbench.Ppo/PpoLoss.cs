using TorchSharp;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo;

/// <summary>The pieces of SB3's PPO loss, each a small function so the tests can check it against hand-computed numbers.</summary>
public static class PpoLoss
{
    /// <summary>(a - mean) / (std + 1e-8) with the unbiased std; a single advantage is left as it is because its std is undefined.</summary>
    public static Tensor NormalizeAdvantages(Tensor advantages)
    {
        if (advantages.shape[0] <= 1)
            return advantages.clone();
        using var scope = NewDisposeScope();
        using var tiny = 1e-8.ToScalar();
        using var one = 1.0.ToScalar();
        var (std, mean) = advantages.std_mean(unbiased: true);
        return ((advantages - mean) / std.add(tiny, one)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// -mean(min(r A, clip(r, 1 - eps, 1 + eps) A)) with r = exp(logp - old_logp), and what SB3 logs about it:
    /// the fraction of ratios outside the clip band and the approx KL mean((r - 1) - log r). The log-ratio, r
    /// and r - 1 are computed once for all three (each op costs a dispatch, and the update runs 1280 of these).
    /// </summary>
    public static (Tensor Loss, Tensor ClipFraction, Tensor ApproxKl) ClippedSurrogate(Tensor logProb, Tensor oldLogProb, Tensor advantages, double clipRange)
    {
        using var scope = NewDisposeScope();
        using var low = (1 - clipRange).ToScalar();
        using var high = (1 + clipRange).ToScalar();
        using var one = 1.0.ToScalar();
        using var range = clipRange.ToScalar();
        var logRatio = logProb - oldLogProb;
        var ratio = logRatio.exp();
        var unclipped = advantages * ratio;
        var clipped = advantages * ratio.clamp(low, high);
        var loss = torch.minimum(unclipped, clipped).mean().neg();
        Tensor clipFraction, approxKl;
        using (no_grad())
        {
            var ratioMinusOne = ratio.sub(one);
            clipFraction = ratioMinusOne.abs().gt(range).to(ScalarType.Float32).mean();
            approxKl = (ratioMinusOne - logRatio).mean();
        }
        return (loss.MoveToOuterDisposeScope(), clipFraction.MoveToOuterDisposeScope(), approxKl.MoveToOuterDisposeScope());
    }

    /// <summary>MSE between returns and values; with a clip range, SB3's clipping of the new value around the rollout's value first.</summary>
    public static Tensor ValueLoss(Tensor values, Tensor returns, Tensor oldValues, double? clipRange)
    {
        using var scope = NewDisposeScope();
        using var low = (-(clipRange ?? 0)).ToScalar();
        using var high = (clipRange ?? 0).ToScalar();
        using var one = 1.0.ToScalar();
        var predicted = clipRange is not null
            ? oldValues.add((values - oldValues).clamp(low, high), one)
            : values;
        return nn.functional.mse_loss(predicted, returns).MoveToOuterDisposeScope();
    }
}
