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
        var (std, mean) = advantages.std_mean(unbiased: true);
        return ((advantages - mean) / (std + 1e-8)).MoveToOuterDisposeScope();
    }

    /// <summary>-mean(min(r A, clip(r, 1 - eps, 1 + eps) A)) with r = exp(logp - old_logp), and the fraction of ratios outside the clip band.</summary>
    public static (Tensor Loss, Tensor ClipFraction) ClippedSurrogate(Tensor logProb, Tensor oldLogProb, Tensor advantages, double clipRange)
    {
        using var scope = NewDisposeScope();
        var ratio = (logProb - oldLogProb).exp();
        var unclipped = advantages * ratio;
        var clipped = advantages * ratio.clamp(1 - clipRange, 1 + clipRange);
        var loss = torch.minimum(unclipped, clipped).mean().neg();
        Tensor clipFraction;
        using (no_grad())
            clipFraction = (ratio - 1).abs().gt(clipRange).to(ScalarType.Float32).mean();
        return (loss.MoveToOuterDisposeScope(), clipFraction.MoveToOuterDisposeScope());
    }

    /// <summary>MSE between returns and values; with a clip range, SB3's clipping of the new value around the rollout's value first.</summary>
    public static Tensor ValueLoss(Tensor values, Tensor returns, Tensor oldValues, double? clipRange)
    {
        using var scope = NewDisposeScope();
        var predicted = clipRange is { } c
            ? oldValues + (values - oldValues).clamp(-c, c)
            : values;
        return nn.functional.mse_loss(predicted, returns).MoveToOuterDisposeScope();
    }

    /// <summary>mean((exp(r) - 1) - r) with r the log-ratio: the low-variance KL estimate SB3 logs.</summary>
    public static Tensor ApproxKl(Tensor logProb, Tensor oldLogProb)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logRatio = logProb - oldLogProb;
        return (logRatio.exp() - 1 - logRatio).mean().MoveToOuterDisposeScope();
    }
}
