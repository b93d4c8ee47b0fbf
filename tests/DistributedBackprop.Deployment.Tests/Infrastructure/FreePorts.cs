using System.Net;
using System.Net.Sockets;

namespace DistributedBackprop.Deployment.Tests.Infrastructure;

/// <summary>Loopback TCP ports free at the time of asking.</summary>
public static class FreePorts
{
    /// <summary><paramref name="count"/> distinct ports: the listeners stay open until all are taken, so the
    /// system cannot hand out the same port twice.</summary>
    public static int[] Take(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        try
        {
            foreach (var listener in listeners)
            {
                listener.Start();
            }

            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }
}
