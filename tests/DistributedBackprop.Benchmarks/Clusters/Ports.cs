using System.Net;
using System.Net.Sockets;

namespace DistributedBackprop.Benchmarks.Clusters;

internal static class Ports
{
    /// <summary>A loopback TCP port free at the time of the call.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
