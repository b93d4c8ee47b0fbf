using DistributedBackprop.Cluster;
using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Cluster.Placement;
using DistributedBackprop.Cluster.Shards;
using DistributedBackprop.Cluster.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace DistributedBackprop.Benchmarks.Clusters;

/// <summary>
/// Transfer rates with the machine's cores free of training: this process fetches shard 0's slice of a finished
/// run (the same payload as a step's pushes and fetches) through Orleans (the cluster client, via a gateway) and
/// over the tensor channel (straight to the shard's silo, which makes the shard's local grain call). Set beside
/// the in-run rate and raw TCP, they separate what each path costs from what competing for the cores during a
/// step costs.
/// </summary>
internal static class IdleTransfer
{
    /// <summary>Payload bytes per second of fetching shard 0's slice through Orleans (median sample).</summary>
    /// <param name="version">The run's final parameter version: its step count.</param>
    public static double OrleansBytesPerSecond(IGrainFactory grains, string runId, int shards, long version)
    {
        var shard = Shard(grains, runId, shards);
        int bytes = shard.GetParametersAsync(version).GetAwaiter().GetResult().Value.Length;
        double seconds = Timing.MedianSeconds(() => shard.GetParametersAsync(version).GetAwaiter().GetResult());
        return bytes / seconds;
    }

    /// <summary>The same over the tensor channel; NaN when the shard's silo has no channel.</summary>
    public static double ChannelBytesPerSecond(IGrainFactory grains, string runId, int shards, long version)
    {
        var shard = Shard(grains, runId, shards);
        string endpoint = shard.GetLocationAsync().GetAwaiter().GetResult().TensorEndpoint;
        if (endpoint.Length == 0)
        {
            return double.NaN;
        }

        var destination = new byte[shard.GetParametersAsync(version).GetAwaiter().GetResult().Value.Length];
        var channel = new TensorChannel(new TrainingSiloOptions(), new NoShards(), NullLogger<TensorChannel>.Instance);
        try
        {
            double seconds = Timing.MedianSeconds(() => channel
                .FetchAsync(endpoint, runId, 0, shards, version, destination).GetAwaiter().GetResult());
            return destination.Length / seconds;
        }
        finally
        {
            channel.StopAsync().GetAwaiter().GetResult();
        }
    }

    private static IShardGrain Shard(IGrainFactory grains, string runId, int shards) =>
        grains.GetGrain<IShardGrain>(RunGrainKey.Shard(runId, 0, shards));

    // This process only sends; its channel never listens, so nothing reaches these.
    private sealed class NoShards : IShardBridge
    {
        public Task PushAsync(string runId, int shardIndex, int shardCount, ShardContribution contribution) =>
            throw new NotSupportedException();

        public Task<byte[]> GetParametersAsync(string runId, int shardIndex, int shardCount, long version) =>
            throw new NotSupportedException();
    }
}
