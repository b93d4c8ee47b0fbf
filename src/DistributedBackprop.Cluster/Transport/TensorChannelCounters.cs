namespace DistributedBackprop.Cluster.Transport;

/// <summary>Payload bytes a silo's tensor channel moved, both directions; thread-safe.</summary>
public sealed class TensorChannelCounters
{
    private long _sent;
    private long _received;

    /// <summary>Payload bytes written to other silos: pushes sent and slices served.</summary>
    public long BytesSent => Interlocked.Read(ref _sent);

    /// <summary>Payload bytes read from other silos: pushes received and slices fetched.</summary>
    public long BytesReceived => Interlocked.Read(ref _received);

    internal void AddSent(long bytes) => Interlocked.Add(ref _sent, bytes);

    internal void AddReceived(long bytes) => Interlocked.Add(ref _received, bytes);
}
