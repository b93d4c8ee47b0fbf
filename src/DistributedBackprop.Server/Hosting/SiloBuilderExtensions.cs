using DistributedBackprop.Cluster;
using DistributedBackprop.Cluster.Placement;
using DistributedBackprop.Cluster.Telemetry;
using DistributedBackprop.Cluster.Transport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace DistributedBackprop.Server.Hosting;

/// <summary>The silo settings every DistributedBackprop silo needs, whatever its clustering: the run placement
/// director, message limits sized for gradients, the options run grains read, their telemetry and the tensor
/// channel that carries gradients and parameters between silos.</summary>
public static class SiloBuilderExtensions
{
    /// <summary>Registers the run grains' placement and options on a silo (the standalone server, the CLI's
    /// embedded silo and test clusters all call this).</summary>
    public static ISiloBuilder AddDistributedBackprop(this ISiloBuilder silo, ClusterHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(options);
        silo.Services.AddPlacementDirector<RunPlacementStrategy, RunPlacementDirector>();
        silo.Services.AddMetrics();
        silo.Services.TryAddSingleton<TrainingTelemetry>();
        silo.Services.Configure<SiloMessagingOptions>(messaging =>
        {
            messaging.MaxMessageBodySize = options.MaxMessageBodySize;
            messaging.ResponseTimeout = options.ResponseTimeout;
            messaging.SystemResponseTimeout = options.ResponseTimeout;
        });
        silo.Services.Configure<TrainingSiloOptions>(training =>
        {
            training.DataDirectory = options.DataDirectory;
            training.ThreadsPerWorker = options.ThreadsPerWorker;
            training.ComputeNiceness = options.ComputeNiceness;
            training.TensorChannel = options.TensorChannel;
            training.TensorPort = options.TensorPort;
            training.TensorMaxPayloadBytes = options.MaxMessageBodySize;
            training.TensorTimeout = options.ResponseTimeout;
        });
        silo.Services.TryAddSingleton<LocalShards>();
        silo.Services.TryAddSingleton(services => new TensorChannel(
            services.GetRequiredService<IOptions<TrainingSiloOptions>>().Value,
            new GrainShardBridge(
                services.GetRequiredService<IGrainFactory>(), services.GetRequiredService<LocalShards>()),
            services.GetRequiredService<ILogger<TensorChannel>>()));
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, TensorChannelLifecycle>();
        return silo;
    }

    /// <summary>The client-side half of <see cref="AddDistributedBackprop(ISiloBuilder, ClusterHostOptions)"/>:
    /// the same message limit, so large results can come back.</summary>
    public static IClientBuilder AddDistributedBackprop(this IClientBuilder client, ClusterHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        client.Services.Configure<ClientMessagingOptions>(messaging =>
        {
            messaging.MaxMessageBodySize = options.MaxMessageBodySize;
            messaging.ResponseTimeout = options.ResponseTimeout;
        });
        return client;
    }
}
