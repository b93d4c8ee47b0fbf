namespace DistributedBackprop.Cluster.Messages;

// Messages that carry where a step's time and bytes went, besides the arrays themselves. Like every run message
// they are [Immutable]: in-silo calls pass them by reference.

/// <summary>Transfers between a reducer and the shards: the payload bytes that crossed to or from another silo
/// (a shard on the reducer's own silo moves nothing over the network), and the wall time of the calls, local
/// ones included, from starting to send until every reply was in.</summary>
/// <param name="Transfers">Calls made that moved a payload (to or from any shard).</param>
/// <param name="ChannelBytes">The part of <paramref name="CrossSiloBytes"/> that went over the tensor channel
/// rather than Orleans messaging.</param>
[GenerateSerializer, Immutable, Alias("dbp.TransferReport")]
public readonly record struct TransferReport(
    [property: Id(0)] long CrossSiloBytes,
    [property: Id(1)] double Seconds,
    [property: Id(2)] int Transfers,
    [property: Id(3)] long ChannelBytes = 0)
{
    public TransferReport Add(TransferReport other) => new(
        CrossSiloBytes + other.CrossSiloBytes,
        Seconds + other.Seconds,
        Transfers + other.Transfers,
        ChannelBytes + other.ChannelBytes);
}

/// <summary>A parameter version as a reducer serves it to a local worker: the full flat vector (shared by
/// reference, read only) and the fetch this call made, if it made one.</summary>
[GenerateSerializer, Immutable, Alias("dbp.ParameterPull")]
public sealed record ParameterPull(
    [property: Id(0)] float[] Parameters,
    [property: Id(1)] TransferReport Fetch);

/// <summary>A shard's reduced step: the root's sums of squares per 4096-float chunk of its slice, in chunk
/// order, and the seconds the shard spent joining and preparing it.</summary>
[GenerateSerializer, Immutable, Alias("dbp.ShardReduction")]
public sealed record ShardReduction(
    [property: Id(0)] double[] ChunkSumsOfSquares,
    [property: Id(1)] double Seconds);
