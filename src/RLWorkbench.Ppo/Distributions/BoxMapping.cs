namespace RLWorkbench.Ppo;

/// <summary>The affine map between a unit interval per dimension and a finite action box, for the distributions that live on the box.</summary>
internal static class BoxMapping
{
    /// <summary>Throws one sentence when a bound is not finite: a distribution on the box needs the box to be finite.</summary>
    public static void RequireFinite(string distribution, float[] low, float[] high)
    {
        for (var j = 0; j < low.Length; j++)
        {
            if (!float.IsFinite(low[j]) || !float.IsFinite(high[j]) || !(high[j] > low[j]))
                throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"distribution {distribution} maps onto the action box, so every dimension needs finite bounds with low < high; dimension {j} is [{low[j]}, {high[j]}]."));
        }
    }

    /// <summary>sum_j log(high_j - low_j): the log-volume the affine map adds to a density on the unit cube.</summary>
    public static double LogVolume(float[] low, float[] high)
    {
        double sum = 0;
        for (var j = 0; j < low.Length; j++)
            sum += Math.Log((double)high[j] - low[j]);
        return sum;
    }

    /// <summary>low + unit * (high - low), kept inside the box against rounding.</summary>
    public static float FromUnit(double unit, float low, float high) =>
        Math.Clamp((float)(low + unit * ((double)high - low)), low, high);
}
