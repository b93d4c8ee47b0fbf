using DistributedBackprop.Server.Hosting;
using Orleans.TestingHost;

namespace DistributedBackprop.Cluster.Tests.Infrastructure;

/// <summary>In-process Orleans clusters (real silos, real silo-to-silo networking on dynamic ports) configured
/// as the server configures its silos.</summary>
public static class TestClusters
{
    /// <summary>Starts <paramref name="silos"/> silos and a client.</summary>
    /// <param name="configureSilo">Extra silo configuration, e.g. a test call filter.</param>
    public static async Task<InProcessTestCluster> StartAsync(int silos, Action<ISiloBuilder>? configureSilo = null)
    {
        var options = new ClusterHostOptions();
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddDistributedBackprop(options);
            configureSilo?.Invoke(silo);
        });
        builder.ConfigureClient(client => client.AddDistributedBackprop(options));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }
}
