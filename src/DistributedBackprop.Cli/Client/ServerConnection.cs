using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Server.Hosting;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace DistributedBackprop.Cli.Client;

/// <summary>
/// A TrainingService client on a remote server (<c>--server URL</c>) or on an embedded one started in this
/// process; everything after connecting is the same gRPC code path.
/// </summary>
internal sealed class ServerConnection : IAsyncDisposable
{
    /// <summary>Where the client commands look for a server without <c>--server</c>: $DBP_SERVER, else
    /// <c>dbp serve</c>'s default address on this machine.</summary>
    public static readonly string DefaultServer =
        Environment.GetEnvironmentVariable("DBP_SERVER") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : "http://127.0.0.1:50051";

    private readonly GrpcChannel _channel;
    private readonly EmbeddedServer? _embedded;

    private ServerConnection(GrpcChannel channel, EmbeddedServer? embedded, Uri address)
    {
        _channel = channel;
        _embedded = embedded;
        Address = address;
        Client = new TrainingService.TrainingServiceClient(channel);
    }

    public TrainingService.TrainingServiceClient Client { get; }

    public Uri Address { get; }

    public bool IsEmbedded => _embedded is not null;

    /// <summary>Connects to <paramref name="server"/>.</summary>
    /// <exception cref="ArgumentException">The URL is not an http(s) address.</exception>
    public static ServerConnection Remote(string server)
    {
        if (!Uri.TryCreate(server, UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException(
                $"--server: '{server}' is not a server address; use e.g. http://127.0.0.1:50051 (what `dbp serve` "
                + "listens on by default).");
        }

        return new ServerConnection(Open(address), null, address);
    }

    /// <summary>Starts a server in this process (localhost clustering, free 127.0.0.1 ports) and connects to
    /// it.</summary>
    public static async Task<ServerConnection> EmbeddedAsync(CancellationToken cancellation)
    {
        var embedded = await EmbeddedServer.StartAsync(LogLevel.Warning, cancellation: cancellation);
        return new ServerConnection(Open(embedded.GrpcAddress), embedded, embedded.GrpcAddress);
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        if (_embedded is not null)
        {
            await _embedded.DisposeAsync();
        }
    }

    private static GrpcChannel Open(Uri address) => GrpcChannel.ForAddress(address, new GrpcChannelOptions
    {
        MaxReceiveMessageSize = 64 * 1024 * 1024,
    });
}
