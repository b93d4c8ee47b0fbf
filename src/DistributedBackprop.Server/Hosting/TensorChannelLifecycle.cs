using DistributedBackprop.Cluster.Transport;

namespace DistributedBackprop.Server.Hosting;

/// <summary>Starts the silo's <see cref="TensorChannel"/> on the silo's advertised address before grains can
/// be activated (a shard reports the channel's endpoint when it is set up) and stops it after they are gone.</summary>
public sealed class TensorChannelLifecycle(TensorChannel channel, ILocalSiloDetails silo)
    : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(
            nameof(TensorChannel),
            ServiceLifecycleStage.ApplicationServices,
            _ => channel.StartAsync(silo.SiloAddress.Endpoint.Address),
            _ => channel.StopAsync());
    }
}
