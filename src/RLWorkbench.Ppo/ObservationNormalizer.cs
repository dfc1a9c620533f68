namespace RLWorkbench.Ppo;

/// <summary>
/// SB3 VecNormalize's observation half: clip((obs - mean) / sqrt(var + 1e-8), -clip, clip) with the
/// running statistics of every raw observation the training environments returned. It belongs to the
/// policy: <see cref="PolicyInference"/> applies it to every observation, and only the trainer calls
/// <see cref="Update"/>, so evaluation, `eval` and the routing comparison use the statistics frozen,
/// and a checkpoint carries them with the weights.
/// </summary>
public sealed class ObservationNormalizer(int size, double clip)
{
    public const double Epsilon = 1e-8;

    public RunningMeanStd Statistics { get; } = new(size);

    public double Clip { get; } = clip;

    /// <summary>Adds raw observations (rows of the observation size) to the statistics.</summary>
    public void Update(ReadOnlySpan<float> observations) => Statistics.Update(observations, observations.Length / Statistics.Size);

    /// <summary>Writes the normalised observations; the statistics do not change.</summary>
    public void Normalize(ReadOnlySpan<float> observations, Span<float> destination)
    {
        var mean = Statistics.Mean;
        var variance = Statistics.Variance;
        var size = Statistics.Size;
        for (var k = 0; k < observations.Length; k++)
        {
            var i = k % size;
            destination[k] = (float)Math.Clamp((observations[k] - mean[i]) / Math.Sqrt(variance[i] + Epsilon), -Clip, Clip);
        }
    }
}
