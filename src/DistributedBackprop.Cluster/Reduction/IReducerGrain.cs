using DistributedBackprop.Cluster.Messages;

namespace DistributedBackprop.Cluster.Reduction;

/// <summary>
/// The meeting point of one silo's workers in a run (key: <c>RunGrainKey.Reducer</c>, placed on that silo).
/// Joins the local workers' tree nodes so one transfer per shard leaves the silo, and fetches each new
/// parameter version once for all local workers. See <c>CoordinatorGrain</c> for the protocol.
/// </summary>
[Alias("dbp.IReducerGrain")]
public interface IReducerGrain : IGrainWithStringKey
{
    [Alias("Setup")]
    Task SetupAsync(ReducerSetup setup);

    /// <summary>The full flat parameter vector at <paramref name="version"/>, shared by reference with every
    /// local worker (callers must not modify it), and the fetch from the shards if this call made it.</summary>
    [Alias("GetParameters")]
    Task<ParameterPull> GetParametersAsync(long version);

    /// <summary>Takes one local worker's nodes; the last local worker's call joins them and pushes each shard
    /// its slice before returning, and reports those pushes and the reductions they completed (the other calls
    /// report none). A local shard that applied the step on its own hands back its new slice, which the
    /// reducer keeps for the next pull.</summary>
    [Alias("Contribute")]
    Task<ContributionReply> ContributeAsync(WorkerContribution contribution);

    [Alias("Leave")]
    Task LeaveAsync();
}
