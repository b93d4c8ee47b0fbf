using DistributedBackprop.Cluster.Placement;
using DistributedBackprop.Cluster.Shards;

namespace DistributedBackprop.Benchmarks.Clusters;

/// <summary>
/// Orleans' own transfer rate with the machine's cores free of training: this process fetches shard 0's slice
/// of a finished run (the same payload as a step's pushes and fetches) through the cluster client. Set beside
/// the in-run rate and raw TCP, it separates what Orleans messaging costs from what competing for the cores
/// during a step costs.
/// </summary>
internal static class IdleTransfer
{
    /// <summary>Payload bytes per second of fetching shard 0's slice (median sample).</summary>
    /// <param name="version">The run's final parameter version: its step count.</param>
    public static double BytesPerSecond(IGrainFactory grains, string runId, int shards, long version)
    {
        var shard = grains.GetGrain<IShardGrain>(RunGrainKey.Shard(runId, 0, shards));
        int bytes = shard.GetParametersAsync(version).GetAwaiter().GetResult().Value.Length;
        double seconds = Timing.MedianSeconds(() => shard.GetParametersAsync(version).GetAwaiter().GetResult());
        return bytes / seconds;
    }
}
