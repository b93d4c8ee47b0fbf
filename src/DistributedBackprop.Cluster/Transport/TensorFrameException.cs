namespace DistributedBackprop.Cluster.Transport;

/// <summary>A frame broke the tensor channel's wire format. The connection it came on is closed: after a bad
/// header nothing says where the next frame starts.</summary>
public sealed class TensorFrameException(string field, string message) : Exception(message)
{
    /// <summary>The header field that was wrong, e.g. <c>Magic</c> or <c>PayloadLength</c>.</summary>
    public string Field { get; } = field;
}
