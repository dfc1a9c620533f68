using RLWorkbench.Gym.Random;
using TorchSharp;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo;

/// <summary>
/// PyTorch's nn.init.orthogonal_ (what SB3 applies to every layer), but drawing the Gaussian matrix
/// from a passed-in random source so a seed fixes the initial network without touching torch's
/// global generator.
/// </summary>
public static class OrthogonalInit
{
    /// <summary>Fills a [rows, cols] weight with a (semi-)orthogonal matrix times <paramref name="gain"/>.</summary>
    public static void Fill(Tensor weight, double gain, IRandomSource random)
    {
        var rows = weight.shape[0];
        var cols = weight.numel() / rows;
        var normal = new float[rows * cols];
        Gaussian.Fill(random, normal);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var flat = tensor(normal, [rows, cols], ScalarType.Float64);
        // QR of the tall orientation gives orthonormal columns; transposing back gives orthonormal rows.
        if (rows < cols)
            flat = flat.t();
        var (q, r) = linalg.qr(flat);
        q = q * r.diagonal().sign();
        if (rows < cols)
            q = q.t();
        weight.copy_(q.mul(gain).reshape(weight.shape).to(weight.dtype));
    }
}

/// <summary>Standard normal draws from an <see cref="IRandomSource"/> (Box-Muller, both values of each pair used).</summary>
public static class Gaussian
{
    public static void Fill(IRandomSource random, Span<float> destination)
    {
        for (var i = 0; i < destination.Length; i += 2)
        {
            var (a, b) = Pair(random);
            destination[i] = (float)a;
            if (i + 1 < destination.Length)
                destination[i + 1] = (float)b;
        }
    }

    public static (double, double) Pair(IRandomSource random)
    {
        // 1 - U keeps the logarithm's argument in (0, 1].
        var u1 = 1.0 - random.Random();
        var u2 = random.Random();
        var radius = Math.Sqrt(-2.0 * Math.Log(u1));
        var angle = 2.0 * Math.PI * u2;
        return (radius * Math.Cos(angle), radius * Math.Sin(angle));
    }
}
