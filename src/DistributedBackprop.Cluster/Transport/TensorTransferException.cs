namespace DistributedBackprop.Cluster.Transport;

/// <summary>A push or fetch over the tensor channel failed: the shard's silo could not be reached, the
/// connection broke, the reply did not come in time, or the shard call itself threw. The message names the
/// endpoint and the cause (the shard's own error text included), and the run fails with it as it would for a
/// failed grain call; the cause travels as text only, so the exception crosses silos whatever caused it.</summary>
[GenerateSerializer, Alias("dbp.TensorTransferException")]
public sealed class TensorTransferException : Exception
{
    public TensorTransferException(string message)
        : base(message)
    {
    }

    public TensorTransferException()
    {
    }

    public TensorTransferException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
