using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace RLWorkbench.Ppo;

/// <summary>
/// Moves numbers between managed spans and tensors. A contiguous CPU tensor is written or read in
/// place through its memory, so the per-step path allocates no tensor; other devices go through a
/// CPU staging copy.
/// </summary>
public static class HostTransfer
{
    public static void CopyToDevice<T>(ReadOnlySpan<T> source, Tensor destination)
        where T : unmanaged
    {
        if (source.Length != destination.numel())
            throw new ArgumentException($"Copying {source.Length} values into a tensor of {destination.numel()}.", nameof(source));
        if (destination.device_type == DeviceType.CPU && destination.is_contiguous())
        {
            source.CopyTo(MemoryMarshal.Cast<byte, T>(destination.bytes));
            return;
        }
        using var staging = empty(destination.shape, destination.dtype, CPU);
        source.CopyTo(MemoryMarshal.Cast<byte, T>(staging.bytes));
        destination.copy_(staging);
    }

    public static void CopyToHost<T>(Tensor source, Span<T> destination)
        where T : unmanaged
    {
        if (source.device_type == DeviceType.CPU && source.is_contiguous())
        {
            MemoryMarshal.Cast<byte, T>(source.bytes).CopyTo(destination);
            return;
        }
        using var host = source.to(CPU).contiguous();
        MemoryMarshal.Cast<byte, T>(host.bytes).CopyTo(destination);
    }

    public static float[] ToArray(Tensor source)
    {
        var result = new float[source.numel()];
        CopyToHost<float>(source, result);
        return result;
    }
}
