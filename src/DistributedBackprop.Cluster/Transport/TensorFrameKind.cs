namespace DistributedBackprop.Cluster.Transport;

/// <summary>What a tensor channel frame carries. Requests go from a reducer's silo to a shard's silo; every
/// request gets exactly one reply on the same connection, matched by request id.</summary>
internal enum TensorFrameKind : byte
{
    /// <summary>A silo's nodes for one shard and step; payload: the nodes' slices, back to back.</summary>
    PushRequest = 1,

    /// <summary>Asks for a shard's slice at a parameter version (the frame's step field); no payload.</summary>
    FetchRequest = 2,

    /// <summary>The shard has stored the push; no payload.</summary>
    PushAck = 3,

    /// <summary>The requested slice; payload: its float32 bytes.</summary>
    FetchReply = 4,

    /// <summary>The shard call failed; payload: the failure as UTF-8 text.</summary>
    Error = 5,
}
