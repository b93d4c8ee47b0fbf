namespace DistributedBackprop.Cluster.Transport;

/// <summary>A push or fetch over the tensor channel failed: the shard's silo could not be reached, the
/// connection broke, the reply did not come in time, or the shard call itself threw (its message is
/// included). The run fails with this message, as it would for a failed grain call.</summary>
public sealed class TensorTransferException(string message, Exception? inner = null) : Exception(message, inner);
