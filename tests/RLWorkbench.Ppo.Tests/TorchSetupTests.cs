using TorchSharp;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo.Tests;

/// <summary>
/// Proves the machine set-up: libtorch's native library loads (it needs GLIBCXX_3.4.32, which
/// scripts/setup.sh provides on Debian 12) and computes, including a backward pass.
/// </summary>
public class TorchSetupTests
{
    [Fact]
    public void Libtorch_loads_and_computes_a_matrix_product_and_its_gradient()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }, 2, 2).requires_grad_(true);
        using var b = tensor(new float[] { 5, 6, 7, 8 }, 2, 2);
        using var product = a.matmul(b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, product.data<float>().ToArray());
        using var sum = product.sum();
        sum.backward();
        // d(sum(A B))/dA = 1 B^T: each row of the gradient is the row sums of B.
        Assert.Equal(new float[] { 11, 15, 11, 15 }, a.grad!.data<float>().ToArray());
    }
}
