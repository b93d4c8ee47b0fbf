using System.Collections.Concurrent;

namespace DistributedBackprop.Cluster.Transport;

/// <summary>The mailboxes of the shards active on this silo, by run, shard index and shard count: how the
/// tensor channel finds a shard without a grain call. One per silo.</summary>
public sealed class LocalShards
{
    private readonly ConcurrentDictionary<(string RunId, int Index, int Count), ShardMailbox> _mailboxes = new();

    /// <summary>A new, empty mailbox for the shard, replacing any it had (a shard set up again starts
    /// over).</summary>
    public ShardMailbox Register(string runId, int index, int count, int sliceLength)
    {
        var mailbox = new ShardMailbox(sliceLength);
        _mailboxes[(runId, index, count)] = mailbox;
        return mailbox;
    }

    /// <summary>Forgets the shard's mailbox if it is still <paramref name="mailbox"/>.</summary>
    public void Unregister(string runId, int index, int count, ShardMailbox mailbox) =>
        _mailboxes.TryRemove(KeyValuePair.Create((runId, index, count), mailbox));

    public ShardMailbox? Find(string runId, int index, int count) =>
        _mailboxes.TryGetValue((runId, index, count), out var mailbox) ? mailbox : null;
}
