using RLWorkbench.Gym.Random;

namespace RLWorkbench.Ppo;

/// <summary>
/// Host-side numerics the bounded distributions need during rollouts (log-gamma, softplus, gamma
/// and beta draws) and the fixed Gauss-Hermite rule the squashed Gaussian's entropy uses. Draws take
/// the trainer's random source, so a checkpoint restores them like every other draw.
/// </summary>
public static class SpecialFunctions
{
    /// <summary>ln Gamma(x) for x &gt; 0 (Lanczos, g = 7, 9 terms; one implementation, in Tracking's statistics).</summary>
    public static double LogGamma(double x) => RLWorkbench.Tracking.Statistics.StudentT.LogGamma(x);

    /// <summary>log(1 + e^x) without overflow for large x or loss of precision for very negative x.</summary>
    public static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    /// <summary>log(1 - tanh(u)^2), the tanh squashing's log-derivative, written so it stays finite for any u.</summary>
    public static double LogTanhDerivative(double u)
    {
        var a = Math.Abs(u);
        return 2 * (Math.Log(2) - a - Math.Log(1 + Math.Exp(-2 * a)));
    }

    /// <summary>A Gamma(shape, 1) draw for shape &gt;= 1 (Marsaglia and Tsang, 2000).</summary>
    public static double Gamma(double shape, IRandomSource random)
    {
        if (!(shape >= 1))
            throw new ArgumentOutOfRangeException(nameof(shape), $"this sampler needs shape >= 1, got {shape}.");
        var d = shape - 1.0 / 3;
        var c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = Gaussian.Pair(random).Item1;
                v = 1 + c * x;
            }
            while (v <= 0);
            v = v * v * v;
            var u = random.Random();
            if (u < 1 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v)))
                return d * v;
        }
    }

    /// <summary>A Beta(alpha, beta) draw on (0, 1) for alpha, beta &gt;= 1, as X / (X + Y) of two gamma draws.</summary>
    public static double Beta(double alpha, double beta, IRandomSource random)
    {
        var x = Gamma(alpha, random);
        var y = Gamma(beta, random);
        return x / (x + y);
    }

    /// <summary>
    /// Nodes and weights of the n-point Gauss-Hermite rule for a standard normal: E[f(e)] is about
    /// sum_k w_k f(x_k). The physicists' nodes come from Newton's method on the orthonormal Hermite
    /// recurrence (Numerical Recipes' gauher), then scale by sqrt(2) and the weights by 1/sqrt(pi).
    /// </summary>
    public static (double[] Nodes, double[] Weights) GaussHermiteNormal(int n)
    {
        const double pim4 = 0.7511255444649425; // pi^(-1/4)
        var x = new double[n];
        var w = new double[n];
        double z = 0;
        for (var i = 0; i < (n + 1) / 2; i++)
        {
            z = i switch
            {
                0 => Math.Sqrt(2.0 * n + 1) - 1.85575 * Math.Pow(2.0 * n + 1, -0.16667),
                1 => z - 1.14 * Math.Pow(n, 0.426) / z,
                2 => 1.86 * z - 0.86 * x[0],
                3 => 1.91 * z - 0.91 * x[1],
                _ => 2 * z - x[i - 2],
            };
            double derivative = 0;
            for (var iteration = 0; iteration < 100; iteration++)
            {
                double p1 = pim4, p2 = 0;
                for (var j = 0; j < n; j++)
                {
                    var p3 = p2;
                    p2 = p1;
                    p1 = z * Math.Sqrt(2.0 / (j + 1)) * p2 - Math.Sqrt((double)j / (j + 1)) * p3;
                }
                derivative = Math.Sqrt(2.0 * n) * p2;
                var previous = z;
                z = previous - p1 / derivative;
                if (Math.Abs(z - previous) <= 1e-14)
                    break;
            }
            x[i] = z;
            x[n - 1 - i] = -z;
            w[i] = w[n - 1 - i] = 2 / (derivative * derivative);
        }
        return ([.. x.Select(v => v * Math.Sqrt(2))], [.. w.Select(v => v / Math.Sqrt(Math.PI))]);
    }
}
