using DistributedBackprop.Cluster.Messages;
using Orleans.Concurrency;

namespace DistributedBackprop.Cluster.Shards;

/// <summary>
/// One parameter-server shard of a run (key: <c>RunGrainKey.Shard</c>): owns a contiguous slice of the flat
/// parameter vector and that slice's optimizer state. See <c>CoordinatorGrain</c> for the protocol.
/// </summary>
[Alias("dbp.IShardGrain")]
public interface IShardGrain : IGrainWithStringKey
{
    /// <summary>Takes the slice and its initial values; returns where the shard lives: the hosting silo and
    /// its tensor channel endpoint.</summary>
    [Alias("Setup")]
    Task<ShardLocation> SetupAsync(ShardSetup setup);

    /// <summary>The slice's values at <paramref name="version"/>, as float32 bytes.</summary>
    /// <exception cref="InvalidOperationException">The shard holds another version.</exception>
    [Alias("GetParameters")]
    Task<Immutable<byte[]>> GetParametersAsync(long version);

    /// <summary>Stores one silo's nodes for a step. The push that brings the last missing nodes also reduces the
    /// step (as <see cref="ReduceAsync"/>) and, when the run has no norm clipping and every push reported finite
    /// losses, applies the update at once if the slice is finite (as <see cref="ApplyAsync"/>); the reply
    /// carries that reduction and, if the push asked for it, the new slice.</summary>
    [Alias("Push")]
    Task<ShardPushReply> PushAsync(ShardContribution contribution);

    /// <summary>The step's reduction: joins the step's nodes into the root (they must cover every micro-batch),
    /// clips it by value when asked, and returns its sums of squares per 4096-float chunk of the slice, in chunk
    /// order, with the seconds this took. Returns the reduction already made when the last push made it. Takes
    /// the pushes the tensor channel left in the shard's mailbox first, and applies on its own as the completing
    /// push would (<see cref="ShardReduction.Applied"/>).</summary>
    [Alias("Reduce")]
    Task<ShardReduction> ReduceAsync(long globalStep);

    /// <summary>Clips the reduced gradient by the global norm and applies the optimizer with the schedule's
    /// learning rate for <paramref name="globalStep"/> (0-based): version + 1. Returns the seconds this took.
    /// Only for a step the shard has not applied on its own (see <see cref="ShardReduction.Applied"/>).</summary>
    [Alias("Apply")]
    Task<double> ApplyAsync(long globalStep, double globalNorm);

    /// <summary>Where the shard lives, as <see cref="SetupAsync"/> reported it (for diagnostics and the
    /// benchmark program).</summary>
    [Alias("GetLocation")]
    Task<ShardLocation> GetLocationAsync();

    [Alias("Leave")]
    Task LeaveAsync();
}
