using DistributedBackprop.Cluster.Reduction;

namespace DistributedBackprop.Cluster.Messages;

// Messages that carry where a step's time and bytes went, besides the arrays themselves. Like every run message
// they are [Immutable]: in-silo calls pass them by reference.

/// <summary>Transfers between a reducer and the shards: the payload bytes that crossed to or from another silo
/// (a shard on the reducer's own silo moves nothing over the network), and the seconds from starting to send
/// until the last payload that crossed silos was in on the reducer's silo (until every reply was in when none
/// crossed).</summary>
/// <param name="Transfers">Calls made that moved a payload (to or from any shard).</param>
/// <param name="ChannelBytes">The part of <paramref name="CrossSiloBytes"/> that went over the tensor channel
/// rather than Orleans messaging.</param>
/// <param name="StartedUtcTicks">When the span of <paramref name="Seconds"/> began, on the reporting silo's
/// UTC clock (<see cref="DateTime.Ticks"/>), so spans of different silos can be laid side by side; 0 for no
/// transfer. A sum keeps the earliest start.</param>
[GenerateSerializer, Immutable, Alias("dbp.TransferReport")]
public readonly record struct TransferReport(
    [property: Id(0)] long CrossSiloBytes,
    [property: Id(1)] double Seconds,
    [property: Id(2)] int Transfers,
    [property: Id(3)] long ChannelBytes = 0,
    [property: Id(4)] long StartedUtcTicks = 0)
{
    /// <summary>The end of one report's span on the reporting silo's UTC clock, in ticks (not of a sum).</summary>
    public long EndedUtcTicks => StartedUtcTicks + TimeSpan.FromSeconds(Seconds).Ticks;

    public TransferReport Add(TransferReport other) => new(
        CrossSiloBytes + other.CrossSiloBytes,
        Seconds + other.Seconds,
        Transfers + other.Transfers,
        ChannelBytes + other.ChannelBytes,
        StartedUtcTicks == 0 || other.StartedUtcTicks == 0
            ? StartedUtcTicks + other.StartedUtcTicks
            : Math.Min(StartedUtcTicks, other.StartedUtcTicks));
}

/// <summary>A parameter version as a reducer serves it to a local worker: the silo's vector (shared by
/// reference, read only) and the fetch this call made, if it made one.</summary>
[GenerateSerializer, Immutable, Alias("dbp.ParameterPull")]
public sealed record ParameterPull(
    [property: Id(0)] SiloParameters Parameters,
    [property: Id(1)] TransferReport Fetch);

/// <summary>A shard's reduced step: the root's sums of squares per 4096-float chunk of its slice, in chunk
/// order, and the seconds the shard spent joining and preparing it.</summary>
/// <param name="Applied">True when the shard already applied the step's update on its own (no norm clipping
/// configured, every loss and its slice finite): the coordinator must not apply it again.</param>
/// <param name="ApplySeconds">The seconds that update took; 0 unless <paramref name="Applied"/>.</param>
[GenerateSerializer, Immutable, Alias("dbp.ShardReduction")]
public sealed record ShardReduction(
    [property: Id(0)] double[] ChunkSumsOfSquares,
    [property: Id(1)] double Seconds,
    [property: Id(2)] bool Applied = false,
    [property: Id(3)] double ApplySeconds = 0);

/// <summary>A shard's answer to a push.</summary>
/// <param name="Reduction">The step's reduction when this push brought the last nodes the shard lacked; null
/// otherwise.</param>
/// <param name="Parameters">The slice's new version, by reference, when the shard applied the update and the
/// push asked for it (only reducers on the shard's own silo do): read it at once, the shard rewrites it in its
/// next update.</param>
[GenerateSerializer, Immutable, Alias("dbp.ShardPushReply")]
public sealed record ShardPushReply(
    [property: Id(0)] ShardReduction? Reduction,
    [property: Id(1)] float[]? Parameters)
{
    /// <summary>The push was stored; the step still lacks nodes.</summary>
    public static ShardPushReply Stored { get; } = new(null, null);
}

/// <summary>A reducer's answer to a worker's contribution.</summary>
/// <param name="Push">The shard pushes this contribution made for its silo; empty unless it was the silo's last.
/// </param>
/// <param name="Reductions">Per shard, the step's reduction when this silo's push completed it; empty unless the
/// contribution was the silo's last.</param>
[GenerateSerializer, Immutable, Alias("dbp.ContributionReply")]
public sealed record ContributionReply(
    [property: Id(0)] TransferReport Push,
    [property: Id(1)] ShardReduction?[] Reductions)
{
    /// <summary>Stored; other local workers have yet to contribute.</summary>
    public static ContributionReply Stored { get; } = new(default, []);
}
