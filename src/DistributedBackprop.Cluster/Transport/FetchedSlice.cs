using System.Diagnostics;

namespace DistributedBackprop.Cluster.Transport;

/// <summary>
/// When a fetch over the tensor channel ran, as <see cref="Stopwatch"/> timestamps of the requesting silo, and
/// how long the shard's silo held the request before replying (waiting for the version, or the shard's call).
/// The transfer itself is the round trip less that time: it starts about <see cref="Held"/> after
/// <see cref="Sent"/> and ends at <see cref="Received"/>.
/// </summary>
/// <param name="Sent">Just before the request was written.</param>
/// <param name="Received">When the slice's last byte was read.</param>
/// <param name="Held">The time the shard's silo reported between reading the request and starting the reply.
/// </param>
public readonly record struct FetchedSlice(long Sent, long Received, TimeSpan Held)
{
    /// <summary>Where the transfer began: <see cref="Held"/> after <see cref="Sent"/>, never after
    /// <see cref="Received"/>.</summary>
    public long TransferStarted =>
        Math.Min(Received, Sent + (long)(Held.TotalSeconds * Stopwatch.Frequency));
}
