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
    /// A fixed number of libtorch intra-op threads, or null for one to start with and <see cref="AutoThreads"/>
    /// choosing the update's. libtorch's own default is one thread per core, which on a shared 2-core
    /// machine is the worst choice whenever another process runs (docs/ppo.md, "Threads").
    /// </summary>
    public static void ConfigureThreads(int? threads = null) => torch.set_num_threads(Math.Max(1, threads ?? 1));

    /// <summary>
    /// The tuner for a run whose thread count is not fixed: the update switches between one thread and all
    /// cores, whichever its steps measure faster. Null (one thread throughout) when the process may use
    /// only one (a sweep worker, started with OMP_NUM_THREADS=1: its sibling trials are the parallelism),
    /// or when a minibatch is so large that ATen would split its sums across threads (over 32,768
    /// elements, its grain size): the thread count would then change the results.
    /// </summary>
    public static UpdateThreadTuner? AutoThreads(PpoOptions options)
    {
        var threads = ThreadsAvailable(Environment.GetEnvironmentVariable("OMP_NUM_THREADS"), Environment.ProcessorCount);
        return TunesThreads(options, threads)
            ? new(threads, TimeProvider.System, torch.get_num_threads, torch.set_num_threads)
            : null;
    }

    /// <summary>Whether a run with these options and this many usable cores gets a tuner (see <see cref="AutoThreads"/>).</summary>
    public static bool TunesThreads(PpoOptions options, int threadsAvailable) =>
        threadsAvailable >= 2 && options.MinibatchSize <= MaxReproducibleMinibatch;

    /// <summary>The cores a run may use: OMP_NUM_THREADS when a launcher set it to a count (a sweep worker, a Slurm task), else all.</summary>
    public static int ThreadsAvailable(string? ompNumThreads, int processorCount) =>
        int.TryParse(ompNumThreads, out var n) && n >= 1 ? Math.Min(n, processorCount) : processorCount;

    /// <summary>The largest minibatch whose update gives the same bits on any thread count (ATen's grain size).</summary>
    public const int MaxReproducibleMinibatch = 32_768;
}
