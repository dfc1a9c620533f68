namespace RLWorkbench.Tracking.Statistics;

/// <summary>
/// Student's t distribution: its CDF through the regularized incomplete beta function and its quantile by
/// bisection on the CDF, to about 1e-12, for any degrees of freedom (.NET has neither).
/// </summary>
public static class StudentT
{
    /// <summary>The t with P(T &lt;= t) = <paramref name="probability"/> for <paramref name="degreesOfFreedom"/> (&gt; 0, need not be whole).</summary>
    public static double Quantile(double probability, double degreesOfFreedom)
    {
        if (!(probability > 0 && probability < 1))
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "A quantile needs a probability strictly between 0 and 1.");
        CheckDegrees(degreesOfFreedom);
        if (probability == 0.5)
            return 0;
        if (probability < 0.5)
            return -Quantile(1 - probability, degreesOfFreedom);
        double low = 0, high = 1;
        while (Cdf(high, degreesOfFreedom) < probability)
        {
            low = high;
            high *= 2;
        }
        // The CDF is monotone, so halving the bracket converges whatever the tail's shape; 200 halvings exhaust a double.
        for (var i = 0; i < 200 && high - low > 1e-15 * high; i++)
        {
            var middle = 0.5 * (low + high);
            if (Cdf(middle, degreesOfFreedom) < probability)
                low = middle;
            else
                high = middle;
        }
        return 0.5 * (low + high);
    }

    /// <summary>The two-sided 95% quantile (t at 0.975), as a mean's interval over seeds uses it.</summary>
    public static double TwoSided95(double degreesOfFreedom) => Quantile(0.975, degreesOfFreedom);

    /// <summary>P(T &lt;= t).</summary>
    public static double Cdf(double t, double degreesOfFreedom)
    {
        CheckDegrees(degreesOfFreedom);
        if (double.IsNaN(t))
            return double.NaN;
        if (double.IsInfinity(t))
            return t > 0 ? 1 : 0;
        // P(|T| > |t|) = I_x(v/2, 1/2) with x = v / (v + t^2); computing the tail keeps precision far out.
        var x = degreesOfFreedom / (degreesOfFreedom + t * t);
        var tail = 0.5 * RegularizedBeta(x, 0.5 * degreesOfFreedom, 0.5);
        return t > 0 ? 1 - tail : tail;
    }

    private static void CheckDegrees(double degreesOfFreedom)
    {
        if (!(degreesOfFreedom > 0) || double.IsPositiveInfinity(degreesOfFreedom))
            throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom), degreesOfFreedom, "Student's t needs finite degrees of freedom above 0.");
    }

    /// <summary>I_x(a, b), by the continued fraction on whichever side of its mean it converges fast (Numerical Recipes 6.4).</summary>
    internal static double RegularizedBeta(double x, double a, double b)
    {
        if (x <= 0)
            return 0;
        if (x >= 1)
            return 1;
        var front = Math.Exp(a * Math.Log(x) + b * Math.Log(1 - x) - LogBeta(a, b));
        return x < (a + 1) / (a + b + 2)
            ? front * BetaContinuedFraction(x, a, b) / a
            : 1 - front * BetaContinuedFraction(1 - x, b, a) / b;
    }

    // Modified Lentz evaluation of the incomplete beta continued fraction.
    private static double BetaContinuedFraction(double x, double a, double b)
    {
        const double tiny = 1e-300;
        var c = 1.0;
        var d = 1 - (a + b) * x / (a + 1);
        d = 1 / (Math.Abs(d) < tiny ? tiny : d);
        var h = d;
        // Terms needed grow like sqrt(max(a, b)); this bound covers millions of degrees of freedom.
        for (var m = 1; m <= 100_000; m++)
        {
            var m2 = 2 * m;
            var even = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
            d = 1 + even * d;
            d = 1 / (Math.Abs(d) < tiny ? tiny : d);
            c = 1 + even / c;
            c = Math.Abs(c) < tiny ? tiny : c;
            h *= d * c;
            var odd = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
            d = 1 + odd * d;
            d = 1 / (Math.Abs(d) < tiny ? tiny : d);
            c = 1 + odd / c;
            c = Math.Abs(c) < tiny ? tiny : c;
            var step = d * c;
            h *= step;
            if (Math.Abs(step - 1) < 1e-16)
                return h;
        }
        return h;
    }

    private static double LogBeta(double a, double b) => LogGamma(a) + LogGamma(b) - LogGamma(a + b);

    // Lanczos approximation (g = 7, 9 terms), relative error about 1e-15 for positive arguments.
    private static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
        12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    ];

    /// <summary>ln |Gamma(x)| (Lanczos, g = 7, 9 terms; relative error about 1e-15), shared with the PPO Beta distribution.</summary>
    public static double LogGamma(double x)
    {
        if (x < 0.5)
            return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        x -= 1;
        var sum = Lanczos[0];
        for (var i = 1; i < Lanczos.Length; i++)
            sum += Lanczos[i] / (x + i);
        var t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }
}
