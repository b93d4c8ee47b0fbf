using DistributedBackprop.Cluster.Messages;

namespace DistributedBackprop.Cluster.Transport;

/// <summary>What the listening side of the tensor channel does with a request: the shard's mailbox or its own
/// grain calls (<see cref="GrainShardBridge"/> in a silo; tests substitute their own). A task that is already
/// complete is answered on the channel's reading thread, without a hop.</summary>
public interface IShardBridge
{
    /// <summary>Hands the push to the shard and completes once the shard has stored it. The contribution's
    /// arrays are passed on by reference.</summary>
    Task PushAsync(string runId, int shardIndex, int shardCount, ShardContribution contribution);

    /// <summary>The shard's slice at <paramref name="version"/>; the caller only reads it.</summary>
    Task<byte[]> GetParametersAsync(string runId, int shardIndex, int shardCount, long version);
}
