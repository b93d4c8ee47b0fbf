using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Contracts.V1;

namespace DistributedBackprop.Cluster.Registry;

/// <summary>
/// The cluster's index of runs (one grain, key <see cref="RunRegistry.Key"/>), so runs can be listed from any
/// silo. Coordinators record their run on every state change; the coordinator stays the owner of the run's
/// state, the registry only keeps the latest copy it was sent.
/// </summary>
[Alias("dbp.IRunRegistryGrain")]
public interface IRunRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>Adds the run, or replaces its entry when it is already known.</summary>
    [Alias("Record")]
    Task RecordAsync(RunStatus status);

    /// <summary>Up to <paramref name="pageSize"/> runs, newest first, among those registered before position
    /// <paramref name="before"/> (0 means from the newest); only runs in <paramref name="states"/> unless
    /// it is empty.</summary>
    [Alias("List")]
    Task<RunPage> ListAsync(RunState[] states, int before, int pageSize);
}

/// <summary>The well-known key of the registry grain.</summary>
public static class RunRegistry
{
    public const long Key = 0;
}

/// <summary>A page of runs, newest first; <paramref name="Next"/> is the position to pass as <c>before</c> for the
/// next page, or 0 when this is the last page.</summary>
[GenerateSerializer, Immutable, Alias("dbp.RunPage")]
public sealed record RunPage([property: Id(0)] RunStatus[] Runs, [property: Id(1)] int Next);
