using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Cluster.Serialization;

namespace DistributedBackprop.Cluster.Transport;

/// <summary>
/// Where the tensor channel meets a shard grain of this silo without a grain call. The channel's reading thread
/// drops a push here and acknowledges it at once; the shard takes the pushes on its next turn (a local push or
/// the coordinator's reduce, which the protocol makes come after every acknowledgement of the step). The other
/// way, the shard publishes each new parameter version here, and the channel serves fetches of that version
/// straight from the reading thread. Thread-safe: the channel's threads and the shard's turns meet here.
/// </summary>
public sealed class ShardMailbox
{
    private readonly Lock _gate = new();
    private List<ShardContribution> _pushes = [];
    private List<ShardContribution> _spare = [];

    // Versions alternate between two buffers, so publishing v + 1 never rewrites v while a fetch of v is being
    // written to a socket; the protocol has every reducer read v before any shard applies v + 2.
    private readonly byte[][] _published;
    private long _publishedVersion = -1;
    private int _servesChannel;

    /// <param name="sliceLength">The shard's slice, in floats: the length of every pushed node and served
    /// version.</param>
    public ShardMailbox(int sliceLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sliceLength);
        SliceLength = sliceLength;
        _published = [new byte[sliceLength * sizeof(float)], new byte[sliceLength * sizeof(float)]];
    }

    public int SliceLength { get; }

    /// <summary>True once a fetch came over the channel: the shard then publishes every version as it makes
    /// it, instead of only when asked.</summary>
    public bool ServesChannel => Volatile.Read(ref _servesChannel) == 1;

    /// <summary>Leaves a push for the shard; its arrays pass by reference.</summary>
    /// <exception cref="ArgumentException">A node's length differs from the slice's; names the node.</exception>
    public void Deposit(ShardContribution push)
    {
        ArgumentNullException.ThrowIfNull(push);
        foreach (var node in push.Nodes)
        {
            if (FloatBytes.Count(node.Values) != SliceLength)
            {
                throw new ArgumentException(
                    $"Push from {push.Silo}, step {push.GlobalStep}: node [{node.Start}, {node.End}) has "
                    + $"{FloatBytes.Count(node.Values)} values; the shard's slice has {SliceLength}.");
            }
        }

        lock (_gate)
        {
            _pushes.Add(push);
        }
    }

    /// <summary>The pushes left since the last call, in arrival order; the list is the mailbox's and valid
    /// until the next call.</summary>
    public List<ShardContribution> TakePushes()
    {
        lock (_gate)
        {
            (_pushes, _spare) = (_spare, _pushes);
            _pushes.Clear();
            return _spare;
        }
    }

    /// <summary>Copies <paramref name="parameters"/> as version <paramref name="version"/> and makes it
    /// servable. Called by the shard only.</summary>
    public byte[] Publish(long version, ReadOnlySpan<float> parameters)
    {
        var buffer = _published[version & 1];
        parameters.CopyTo(FloatBytes.AsFloats(buffer));
        Volatile.Write(ref _publishedVersion, version);
        return buffer;
    }

    /// <summary>The bytes of <paramref name="version"/> when that is the version last published, else null.
    /// The caller only reads them.</summary>
    public byte[]? Published(long version) =>
        Volatile.Read(ref _publishedVersion) == version ? _published[version & 1] : null;

    /// <summary>Records that the channel serves this shard's versions (see <see cref="ServesChannel"/>).</summary>
    public void MarkServesChannel() => Volatile.Write(ref _servesChannel, 1);
}
