using TorchSharp;

namespace RLWorkbench.Ppo;

/// <summary>Thrown when the requested device cannot be used here; the message is one sentence for the user.</summary>
public sealed class DeviceUnavailableException(string message) : Exception(message);

/// <summary>Turns the user's cpu|cuda|auto into a torch device, failing clearly when CUDA is asked for but absent.</summary>
public static class ComputeDevice
{
    public static readonly string[] Choices = ["cpu", "cuda", "auto"];

    public static bool IsKnown(string name) => Choices.Contains(name, StringComparer.OrdinalIgnoreCase);

    public static torch.Device Resolve(string name)
    {
        switch (name.ToLowerInvariant())
        {
            case "cpu":
                return torch.CPU;
            case "cuda":
                if (!CudaAvailable())
                    throw new DeviceUnavailableException(
                        "--device cuda needs a CUDA build of TorchSharp (build with -p:TorchBackend=cuda) and a visible NVIDIA GPU; this process has neither, so use --device cpu or auto.");
                return torch.CUDA;
            case "auto":
                return CudaAvailable() ? torch.CUDA : torch.CPU;
            default:
                throw new ArgumentException($"Unknown device '{name}'; use one of {string.Join(", ", Choices)}.", nameof(name));
        }
    }

    // The CPU libtorch answers false; a missing native CUDA library can also throw, which means the same.
    private static bool CudaAvailable()
    {
        try
        {
            return torch.cuda.is_available();
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or NotSupportedException)
        {
            return false;
        }
    }

    /// <summary>
    /// libtorch defaults to one intra-op thread per core. The environments step on the calling thread
    /// between forward passes, so on a small machine every core is given to the matrix work and no more
    /// (oversubscription costs far more than it gains). Called once per process.
    /// </summary>
    public static void ConfigureThreads(int? threads = null)
    {
        var n = threads ?? Math.Max(1, Environment.ProcessorCount);
        torch.set_num_threads(n);
    }
}
