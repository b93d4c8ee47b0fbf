using DistributedBackprop.Cluster.Tests.Infrastructure;
using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Server.Hosting;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace DistributedBackprop.Server.Tests.Infrastructure;

/// <summary>One real server (Kestrel on 127.0.0.1 with free ports, a localhost-clustered silo) shared by the API
/// tests, a gRPC client on it, and a small synthetic dataset on disk.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    private EmbeddedServer? _server;

    public SyntheticDataset Data { get; } = SyntheticDataset.Small();

    public GrpcChannel Channel { get; private set; } = null!;

    public TrainingService.TrainingServiceClient Client { get; private set; } = null!;

    public EmbeddedServer Server => _server ?? throw new InvalidOperationException("The server is not started.");

    public async Task InitializeAsync()
    {
        _server = await EmbeddedServer.StartAsync(LogLevel.Warning);
        Channel = GrpcChannel.ForAddress(_server.GrpcAddress);
        Client = new TrainingService.TrainingServiceClient(Channel);
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Data.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ServerGroup : ICollectionFixture<ServerFixture>
{
    public const string Name = "server";
}
