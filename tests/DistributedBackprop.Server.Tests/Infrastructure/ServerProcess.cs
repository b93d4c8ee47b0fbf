using System.Text.RegularExpressions;

namespace DistributedBackprop.Server.Tests.Infrastructure;

/// <summary>The standalone server program in its own process on 127.0.0.1 and free ports; the gRPC address is
/// read from the line it logs when it listens.</summary>
public static partial class ServerProcess
{
    public static async Task<(ChildProcess Process, Uri GrpcAddress)> StartAsync()
    {
        var process = ChildProcess.Start("DistributedBackprop.Server.dll", [], new Dictionary<string, string>
        {
            ["Server__ListenAddress"] = "127.0.0.1",
            ["Server__GrpcPort"] = "0",
            ["Server__HttpPort"] = "0",
            ["Cluster__SiloPort"] = ChildProcess.FreePort(),
            ["Cluster__GatewayPort"] = ChildProcess.FreePort(),
            ["Cluster__ClusterId"] = "dbp-test-" + Guid.NewGuid().ToString("N")[..8],
            ["Logging__LogLevel__Default"] = "Information",
        });
        try
        {
            string line = await process.WaitForLineAsync(l => Listening().IsMatch(l), TimeSpan.FromSeconds(60));
            return (process, new Uri(Listening().Match(line).Groups[1].Value));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    [GeneratedRegex(@"gRPC \(HTTP/2\) on (http://[^/,\s]+)")]
    private static partial Regex Listening();
}
