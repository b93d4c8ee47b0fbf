using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Cluster.Placement;
using DistributedBackprop.Cluster.Shards;

namespace DistributedBackprop.Cluster.Transport;

/// <summary>Hands tensor channel requests to the shards of this silo. A shard that is set up here has a
/// mailbox (<see cref="LocalShards"/>): a push is left there and acknowledged at once, and a fetch of the
/// version the shard last published is answered from there, both without a grain call, on the channel's own
/// thread. Anything else (a shard not active here, a version not published yet) becomes the shard's own grain
/// call, as a reducer on this silo would make it, which activates the shard or reports the problem.</summary>
public sealed class GrainShardBridge(IGrainFactory grains, LocalShards shards) : IShardBridge
{
    public Task PushAsync(string runId, int shardIndex, int shardCount, ShardContribution contribution)
    {
        if (shards.Find(runId, shardIndex, shardCount) is not { } mailbox)
        {
            return Shard(runId, shardIndex, shardCount).PushAsync(contribution);
        }

        mailbox.Deposit(contribution);
        return Task.CompletedTask;
    }

    public Task<byte[]> GetParametersAsync(string runId, int shardIndex, int shardCount, long version)
    {
        var mailbox = shards.Find(runId, shardIndex, shardCount);
        if (mailbox?.Published(version) is { } slice)
        {
            return Task.FromResult(slice);
        }

        mailbox?.MarkServesChannel();
        return FetchThroughGrainAsync(runId, shardIndex, shardCount, version);
    }

    private async Task<byte[]> FetchThroughGrainAsync(string runId, int shardIndex, int shardCount, long version) =>
        (await Shard(runId, shardIndex, shardCount).GetParametersAsync(version)).Value;

    private IShardGrain Shard(string runId, int shardIndex, int shardCount) =>
        grains.GetGrain<IShardGrain>(RunGrainKey.Shard(runId, shardIndex, shardCount));
}
