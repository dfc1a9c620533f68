namespace RLWorkbench.Comparison;

/// <summary>
/// The normal distribution's CDF and density to about 1e-15, which .NET does not provide. erfc uses the positive-term
/// series of erf (no cancellation) below 3 and Lentz's continued fraction above, where the series would need many terms.
/// </summary>
public static class Normal
{
    private const double SqrtTwo = 1.4142135623730950488;
    private const double InvSqrtTwoPi = 0.39894228040143267794;
    private const double TwoOverSqrtPi = 1.1283791670955125739;

    public static double Erfc(double x)
    {
        if (double.IsNaN(x))
            return double.NaN;
        if (x < 0)
            return 2.0 - Erfc(-x);
        return x < 3.0 ? 1.0 - ErfSeries(x) : ErfcContinuedFraction(x);
    }

    // erf(x) = 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)); every term is positive.
    private static double ErfSeries(double x)
    {
        var x2 = x * x;
        var term = x;
        var sum = x;
        for (var n = 1; n < 200; n++)
        {
            term *= 2.0 * x2 / (2 * n + 1);
            sum += term;
            if (term < sum * 1e-17)
                break;
        }
        return TwoOverSqrtPi * Math.Exp(-x2) * sum;
    }

    // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated by modified Lentz.
    private static double ErfcContinuedFraction(double x)
    {
        const double tiny = 1e-300;
        var f = x;
        var c = x;
        var d = 0.0;
        for (var n = 1; n < 500; n++)
        {
            var a = n / 2.0;
            d = x + a * d;
            d = Math.Abs(d) < tiny ? 1 / tiny : 1 / d;
            c = x + a / c;
            if (Math.Abs(c) < tiny)
                c = tiny;
            var delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16)
                break;
        }
        return Math.Exp(-x * x) / Math.Sqrt(Math.PI) / f;
    }

    /// <summary>Standard normal CDF.</summary>
    public static double Cdf(double z) => 0.5 * Erfc(-z / SqrtTwo);

    /// <summary>Standard normal upper tail 1 - CDF, accurate where the CDF is near 1.</summary>
    public static double Survival(double z) => 0.5 * Erfc(z / SqrtTwo);

    public static double Density(double z) => InvSqrtTwoPi * Math.Exp(-0.5 * z * z);
}

/// <summary>A normal variable N(mean, sd^2); a zero spread is the constant at the mean (the profile allows it).</summary>
public readonly record struct NormalVariable(double Mean, double Spread)
{
    public bool IsConstant => Spread == 0;

    public double Cdf(double x) => IsConstant ? (x >= Mean ? 1.0 : 0.0) : Normal.Cdf((x - Mean) / Spread);

    public double Survival(double x) => IsConstant ? (x >= Mean ? 0.0 : 1.0) : Normal.Survival((x - Mean) / Spread);

    /// <summary>P(low &lt; X &lt;= high), taken from whichever tail keeps its digits.</summary>
    public double Between(double low, double high)
    {
        if (high <= low)
            return 0.0;
        return low >= Mean ? Survival(low) - Survival(high) : Cdf(high) - Cdf(low);
    }

    /// <summary>The density at x (0 for a constant: the point masses are handled by the callers).</summary>
    public double Density(double x) => IsConstant ? 0.0 : Normal.Density((x - Mean) / Spread) / Spread;

    /// <summary>E[X; low &lt; X &lt;= high] = mean P(low &lt; X &lt;= high) - sd^2 (f(high) - f(low)).</summary>
    public double PartialMean(double low, double high)
    {
        if (high <= low)
            return 0.0;
        if (IsConstant)
            return Mean > low && Mean <= high ? Mean : 0.0;
        var fHigh = double.IsPositiveInfinity(high) ? 0.0 : Density(high);
        var fLow = double.IsNegativeInfinity(low) ? 0.0 : Density(low);
        return Mean * Between(low, high) - Spread * Spread * (fHigh - fLow);
    }

    /// <summary>E[clip(X, low, high)].</summary>
    public double ClippedMean(double low, double high) =>
        low * Cdf(low) + high * Survival(high) + PartialMean(low, high);
}
