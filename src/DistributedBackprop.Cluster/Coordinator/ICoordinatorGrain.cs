using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Contracts.V1;
using Orleans.Concurrency;

namespace DistributedBackprop.Cluster.Coordinator;

/// <summary>
/// Owns one training run (key: the run id): validates its spec, places workers and shards, drives its steps
/// and keeps its ordered event log. The only writer of the run's state.
/// </summary>
[Alias("dbp.ICoordinatorGrain")]
public interface ICoordinatorGrain : IGrainWithStringKey
{
    /// <summary>Validates <paramref name="spec"/> and starts the run in the background; returns once it is
    /// accepted. Starting an already started run with an equal spec is a no-op.</summary>
    /// <exception cref="ArgumentException">The spec is invalid; the message lists every problem, naming the
    /// field, its value and what is allowed.</exception>
    /// <exception cref="InvalidOperationException">The run was already started with a different spec.</exception>
    [Alias("Start")]
    Task<RunStatus> StartAsync(RunSpec spec);

    [Alias("GetStatus")]
    Task<RunStatus> GetStatusAsync();

    /// <summary>Up to <paramref name="max"/> events with a sequence number above
    /// <paramref name="afterSequence"/>, in order; empty when there are none yet.</summary>
    [Alias("GetEvents")]
    Task<List<RunEvent>> GetEventsAsync(ulong afterSequence, int max);

    /// <summary>As <see cref="GetEventsAsync"/>, but waits up to <paramref name="timeout"/> for at least one
    /// event when there are none; empty after the timeout. Interleaves with the run, so watchers can long-poll.
    /// </summary>
    [AlwaysInterleave, Alias("WaitForEvents")]
    Task<List<RunEvent>> WaitForEventsAsync(ulong afterSequence, int max, TimeSpan timeout);

    /// <summary>Stops the run after the step in progress; ignored once the run has ended.</summary>
    [AlwaysInterleave, Alias("Cancel")]
    Task CancelAsync(string reason);

    /// <summary>Where each epoch's steps spent their time and what crossed silos, one entry per epoch begun
    /// (the last may be in progress).</summary>
    [Alias("GetEpochTimings")]
    Task<List<EpochTimings>> GetEpochTimingsAsync();

    /// <summary>The current flat parameter vector (float32 bytes), assembled from the shards in slice order.
    /// Call it once the run has ended: during a run the shards move to new versions under it.</summary>
    [Alias("GetParameters")]
    Task<byte[]> GetParametersAsync();
}
