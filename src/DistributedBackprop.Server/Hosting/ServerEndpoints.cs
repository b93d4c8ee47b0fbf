using System.Globalization;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace DistributedBackprop.Server.Hosting;

/// <summary>The server's two Kestrel endpoints; after start they hold the ports actually bound (port 0 in the
/// options becomes a free port).</summary>
public sealed class ServerEndpoints
{
    internal ListenOptions? Grpc { get; set; }

    internal ListenOptions? Http { get; set; }

    /// <summary>The gRPC endpoint (HTTP/2 without TLS), e.g. <c>http://127.0.0.1:50051</c>.</summary>
    public Uri GrpcAddress => Address(Grpc);

    /// <summary>The HTTP/1.1 endpoint serving /healthz.</summary>
    public Uri HttpAddress => Address(Http);

    private static Uri Address(ListenOptions? listen)
    {
        var endpoint = listen?.IPEndPoint ?? throw new InvalidOperationException("The server has not started.");
        string host = endpoint.Address.Equals(System.Net.IPAddress.Any) ? "127.0.0.1" : endpoint.Address.ToString();
        return new Uri(string.Create(CultureInfo.InvariantCulture, $"http://{host}:{endpoint.Port}"));
    }
}
