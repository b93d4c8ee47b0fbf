using DistributedBackprop.Contracts.V1;

namespace DistributedBackprop.Cluster.Messages;

// Messages between a run's grains. Every type is [Immutable]: within a silo Orleans passes it by reference
// instead of deep-copying, so a gradient or parameter array moves between local grains at no cost. The sender
// must not touch an array after sending it; the protocol (see CoordinatorGrain) guarantees it by finishing
// every use of a step's arrays before the next step starts.

/// <summary>What a worker needs to join a run.</summary>
[GenerateSerializer, Immutable, Alias("dbp.WorkerSetup")]
public sealed record WorkerSetup(
    [property: Id(0)] string RunId,
    [property: Id(1)] RunSpec Spec,
    [property: Id(2)] int Rank,
    [property: Id(3)] int Workers);

/// <summary>A worker's answer to joining: where it runs and what it found in its silo's copy of the dataset.</summary>
[GenerateSerializer, Immutable, Alias("dbp.WorkerInfo")]
public sealed record WorkerInfo(
    [property: Id(0)] int Rank,
    [property: Id(1)] string Silo,
    [property: Id(2)] int TrainRows,
    [property: Id(3)] int TestRows,
    [property: Id(4)] int[] SampleShape,
    [property: Id(5)] int ClassCount,
    [property: Id(6)] int ParameterCount);

/// <summary>A contiguous slice [Start, End) of the flat parameter vector.</summary>
[GenerateSerializer, Immutable, Alias("dbp.ShardRange")]
public readonly record struct ShardRange([property: Id(0)] int Start, [property: Id(1)] int End)
{
    public int Length => End - Start;
}

/// <summary>What a silo's reducer needs: the ranks it serves, where the shards' slices begin and end, the
/// silo of each shard (so it can tell the transfers that cross silos) and each shard silo's tensor channel
/// endpoint (empty where that silo has none: those transfers stay on Orleans).</summary>
[GenerateSerializer, Immutable, Alias("dbp.ReducerSetup")]
public sealed record ReducerSetup(
    [property: Id(0)] string RunId,
    [property: Id(1)] int[] Ranks,
    [property: Id(2)] ShardRange[] Shards,
    [property: Id(3)] int MicroBatches,
    [property: Id(4)] int ParameterCount,
    [property: Id(5)] string[] ShardSilos,
    [property: Id(6)] string[] ShardEndpoints);

/// <summary>Where a shard was set up: its silo (<c>SiloAddress.ToParsableString()</c>) and that silo's tensor
/// channel endpoint (<c>address:port</c>; empty when the silo's channel is disabled).</summary>
[GenerateSerializer, Immutable, Alias("dbp.ShardLocation")]
public sealed record ShardLocation(
    [property: Id(0)] string Silo,
    [property: Id(1)] string TensorEndpoint);

/// <summary>One segment of the parameter layout, as <c>ParameterSegment</c> but serializable.</summary>
[GenerateSerializer, Immutable, Alias("dbp.SegmentInfo")]
public sealed record SegmentInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] int Offset,
    [property: Id(2)] int[] Shape,
    [property: Id(3)] int Kind,
    [property: Id(4)] float Momentum);

/// <summary>What a shard needs: the spec (for its optimizer, clipping and schedule), its slice, the layout, the
/// steps per epoch (for the schedule) and the slice's initial values as float32 bytes.</summary>
[GenerateSerializer, Immutable, Alias("dbp.ShardSetup")]
public sealed record ShardSetup(
    [property: Id(0)] string RunId,
    [property: Id(1)] RunSpec Spec,
    [property: Id(2)] int Index,
    [property: Id(3)] ShardRange Range,
    [property: Id(4)] SegmentInfo[] Layout,
    [property: Id(5)] int StepsPerEpoch,
    [property: Id(6)] byte[] InitialValues);

/// <summary>Orders a worker to compute its part of one global step from parameter version
/// <paramref name="Version"/> (the number of updates applied so far).</summary>
[GenerateSerializer, Immutable, Alias("dbp.StepOrder")]
public sealed record StepOrder(
    [property: Id(0)] long GlobalStep,
    [property: Id(1)] int Epoch,
    [property: Id(2)] int Step,
    [property: Id(3)] long Version);

/// <summary>A worker's statistics for one step: per micro-batch (in micro-batch order) its loss (the sum of its
/// sample losses divided by the global batch size) and correct predictions, and where the worker's time went.
/// </summary>
/// <param name="Reductions">Per shard, the reductions its silo's pushes completed (see
/// <see cref="ContributionReply"/>); empty unless this worker was its silo's last to contribute.</param>
[GenerateSerializer, Immutable, Alias("dbp.WorkerStepResult")]
public sealed record WorkerStepResult(
    [property: Id(0)] int Rank,
    [property: Id(1)] double[] Losses,
    [property: Id(2)] int[] Correct,
    [property: Id(3)] StepTimings Timings,
    [property: Id(4)] ShardReduction?[] Reductions);

/// <summary>Seconds a worker spent on a step's phases, and the transfers its reducer calls made.</summary>
/// <param name="ParameterPullSeconds">Waiting for the parameter version, fetch included.</param>
/// <param name="ReduceSeconds">Handing the nodes to the reducer: waiting for the other local workers, then (for
/// the last of them) the pushes to the shards, which include the shards' reduction and, without norm clipping,
/// their update.</param>
/// <param name="Pull">The parameter fetch this worker's call made for its silo; empty when another local worker's
/// call made it or the version was already there.</param>
/// <param name="Push">The shard pushes this worker's contribution made for its silo; empty unless it was the
/// silo's last.</param>
[GenerateSerializer, Immutable, Alias("dbp.StepTimings")]
public readonly record struct StepTimings(
    [property: Id(0)] double ParameterPullSeconds,
    [property: Id(1)] double ComputeSeconds,
    [property: Id(2)] double ReduceSeconds,
    [property: Id(3)] TransferReport Pull,
    [property: Id(4)] TransferReport Push);

/// <summary>The sum of micro-batches [Start, End)'s gradients: a node of the canonical tree.</summary>
/// <param name="Sum">Float32 values, the full flat length (to the reducer) or a shard's slice (to a shard).</param>
[GenerateSerializer, Immutable, Alias("dbp.NodeSum")]
public sealed record NodeSum(
    [property: Id(0)] int Start,
    [property: Id(1)] int End,
    [property: Id(2)] float[] Sum);

/// <summary>A node's sum restricted to one shard's slice, as float32 bytes (it may cross silos).</summary>
[GenerateSerializer, Immutable, Alias("dbp.NodeSlice")]
public sealed record NodeSlice(
    [property: Id(0)] int Start,
    [property: Id(1)] int End,
    [property: Id(2)] byte[] Values);

/// <summary>A worker's contribution to a step: the maximal tree nodes of its micro-batch range, in order.
/// Stays inside the silo (worker to its local reducer), so the float arrays are never serialized.</summary>
/// <param name="LossesFinite">Every micro-batch loss of this worker is finite.</param>
[GenerateSerializer, Immutable, Alias("dbp.WorkerContribution")]
public sealed record WorkerContribution(
    [property: Id(0)] long GlobalStep,
    [property: Id(1)] int Rank,
    [property: Id(2)] NodeSum[] Nodes,
    [property: Id(3)] bool LossesFinite);

/// <summary>One silo's contribution to one shard for a step: its remaining nodes, cut to the shard's slice.</summary>
/// <param name="LossesFinite">Every micro-batch loss of the silo's workers is finite; false lets the shard apply
/// nothing before the coordinator has checked the step. The tensor channel carries it as a frame flag.</param>
/// <param name="WantParameters">The sender shares the shard's silo and takes the new version by reference in
/// the reply.</param>
[GenerateSerializer, Immutable, Alias("dbp.ShardContribution")]
public sealed record ShardContribution(
    [property: Id(0)] long GlobalStep,
    [property: Id(1)] string Silo,
    [property: Id(2)] NodeSlice[] Nodes,
    [property: Id(3)] bool LossesFinite = false,
    [property: Id(4)] bool WantParameters = false);

/// <summary>A worker's sums over its share of the test split, one entry per evaluation batch in row order, so
/// the coordinator can add batches in the single-process evaluator's order.</summary>
[GenerateSerializer, Immutable, Alias("dbp.EvaluationResult")]
public sealed record EvaluationResult(
    [property: Id(0)] int Rank,
    [property: Id(1)] EvaluationBatch[] Batches);

/// <summary>Loss summed over an evaluation batch's rows, its correct predictions and its row count.</summary>
[GenerateSerializer, Immutable, Alias("dbp.EvaluationBatch")]
public readonly record struct EvaluationBatch(
    [property: Id(0)] double LossSum,
    [property: Id(1)] long Correct,
    [property: Id(2)] long Rows);

/// <summary>A run's state and progress, for status queries and the run registry.</summary>
/// <param name="Spec">The accepted spec; null for a run that was never started.</param>
/// <param name="CreatedAt">When the spec was accepted (UTC).</param>
/// <param name="StartedAt">When training steps began (UTC).</param>
/// <param name="FinishedAt">When the run reached a terminal state (UTC).</param>
/// <param name="Epoch">Epochs finished so far.</param>
/// <param name="LastTestAccuracy">Test accuracy at the last evaluation; NaN before the first.</param>
/// <param name="Silo">The silo hosting the coordinator.</param>
[GenerateSerializer, Immutable, Alias("dbp.RunStatus")]
public sealed record RunStatus(
    [property: Id(0)] string RunId,
    [property: Id(1)] RunState State,
    [property: Id(2)] ulong LastSequence,
    [property: Id(3)] long GlobalStep,
    [property: Id(4)] string Reason,
    [property: Id(5)] RunSpec? Spec = null,
    [property: Id(6)] DateTime? CreatedAt = null,
    [property: Id(7)] DateTime? StartedAt = null,
    [property: Id(8)] DateTime? FinishedAt = null,
    [property: Id(9)] int Epoch = 0,
    [property: Id(10)] double LastTestAccuracy = double.NaN,
    [property: Id(11)] int Workers = 0,
    [property: Id(12)] string Silo = "")
{
    /// <summary>True once the run completed, failed or was cancelled.</summary>
    public bool IsFinished => State is RunState.Completed or RunState.Failed or RunState.Cancelled;
}
