using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Cluster.Placement;
using DistributedBackprop.Cluster.Shards;

namespace DistributedBackprop.Cluster.Transport;

/// <summary>Turns a tensor channel request into the same call a reducer would make through Orleans. The
/// shard lives on this silo, so the call is local and its [Immutable] arguments and results pass by reference:
/// the shard keeps its logic and its one-call-at-a-time turns.</summary>
public sealed class GrainShardBridge(IGrainFactory grains) : IShardBridge
{
    public Task PushAsync(string runId, int shardIndex, int shardCount, ShardContribution contribution) =>
        Shard(runId, shardIndex, shardCount).PushAsync(contribution);

    public async Task<byte[]> GetParametersAsync(string runId, int shardIndex, int shardCount, long version) =>
        (await Shard(runId, shardIndex, shardCount).GetParametersAsync(version)).Value;

    private IShardGrain Shard(string runId, int shardIndex, int shardCount) =>
        grains.GetGrain<IShardGrain>(RunGrainKey.Shard(runId, shardIndex, shardCount));
}
