using DistributedBackprop.Core.Reduction;

namespace DistributedBackprop.Cluster.Transport;

/// <summary>
/// A push as the tensor channel writes it: the step, the nodes' micro-batch ranges and each node's slice as
/// float32 bytes, which may be views of larger arrays (a reducer's node sums): the channel copies them into the
/// socket and keeps nothing, so they need no copy of their own first.
/// </summary>
/// <param name="Payloads">One per node, all the same length.</param>
public sealed record TensorPush(long GlobalStep, bool LossesFinite, TreeNode[] Nodes, ReadOnlyMemory<byte>[] Payloads)
{
    /// <summary>Bytes of every payload together.</summary>
    public int PayloadLength => Payloads.Sum(p => p.Length);
}
