namespace RLWorkbench.Ppo;

/// <summary>
/// SB3 VecNormalize's reward half: each environment keeps a discounted running return
/// (ret = ret * gamma + r, reset at episode ends); rewards are divided by the standard deviation of
/// those returns, sqrt(var + 1e-8), and clipped to +-clip. The mean is not subtracted, so the sign of
/// a reward is kept. Only the scale is learnt, which a checkpoint saves; the per-environment returns
/// start from zero with the fresh episodes of a resumed run.
/// </summary>
public sealed class RewardScaler
{
    private readonly double[] returns;

    public RewardScaler(int envs, double gamma, double clip)
    {
        returns = new double[envs];
        Gamma = gamma;
        Clip = clip;
    }

    public RunningMeanStd Statistics { get; } = new(1);

    public double Gamma { get; }

    public double Clip { get; }

    /// <summary>Environments restart their episodes, so their running returns start again.</summary>
    public void ResetReturns() => Array.Clear(returns);

    /// <summary>Updates the return statistics with one vector step and writes the scaled rewards.</summary>
    public void Scale(ReadOnlySpan<double> rewards, ReadOnlySpan<bool> dones, Span<double> scaled)
    {
        for (var i = 0; i < returns.Length; i++)
            returns[i] = returns[i] * Gamma + rewards[i];
        Statistics.Update<double>(returns, returns.Length);
        var std = Math.Sqrt(Statistics.Variance[0] + ObservationNormalizer.Epsilon);
        for (var i = 0; i < returns.Length; i++)
        {
            scaled[i] = Math.Clamp(rewards[i] / std, -Clip, Clip);
            if (dones[i])
                returns[i] = 0;
        }
    }
}
