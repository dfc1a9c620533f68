using System.Net;
using System.Net.Sockets;

namespace RLWorkbench.TestSupport;

/// <summary>
/// A slurm.conf for a cluster whose controller address has nothing listening, so the real scontrol and
/// sbatch fail the way they do when a controller is down. One file, linked into the test projects that
/// check that failure (the sweep command's and the Slurm client's).
/// </summary>
internal static class UnreachableSlurm
{
    /// <summary>Writes slurm.conf into <paramref name="directory"/> and returns its path (for SLURM_CONF).</summary>
    public static string WriteConf(string directory)
    {
        var conf = Path.Combine(directory, "slurm.conf");
        File.WriteAllText(conf, $"""
            ClusterName=nowhere
            SlurmctldHost=rlw-nowhere(127.0.0.1)
            SlurmctldPort={ClosedPort()}
            NodeName=rlw-nowhere CPUs=1
            PartitionName=p Nodes=rlw-nowhere Default=YES

            """);
        return conf;
    }

    /// <summary>A loopback port that was free a moment ago, so nothing answers on it.</summary>
    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
