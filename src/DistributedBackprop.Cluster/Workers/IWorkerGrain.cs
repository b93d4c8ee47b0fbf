using DistributedBackprop.Cluster.Messages;

namespace DistributedBackprop.Cluster.Workers;

/// <summary>
/// One rank of a run (key: <c>RunGrainKey.Worker</c>). Reads the dataset from its own silo, computes the
/// gradients of its micro-batch range and hands their tree nodes to its silo's reducer. The step protocol is
/// described on <c>CoordinatorGrain</c>.
/// </summary>
[Alias("dbp.IWorkerGrain")]
public interface IWorkerGrain : IGrainWithStringKey
{
    /// <summary>Loads the dataset and builds the model replica; reports the silo and dataset it found.</summary>
    [Alias("Join")]
    Task<WorkerInfo> JoinAsync(WorkerSetup setup);

    /// <summary>Computes this rank's micro-batches of a step and contributes them to the silo's reducer.</summary>
    [Alias("ComputeStep")]
    Task<WorkerStepResult> ComputeStepAsync(StepOrder order);

    /// <summary>Sums loss and correct predictions over test rows [rowStart, rowEnd) with parameter version
    /// <paramref name="version"/>.</summary>
    [Alias("Evaluate")]
    Task<EvaluationResult> EvaluateAsync(long version, int rowStart, int rowEnd);

    /// <summary>Releases the replica and deactivates.</summary>
    [Alias("Leave")]
    Task LeaveAsync();
}
