using Orleans.Placement;

namespace DistributedBackprop.Cluster.Placement;

/// <summary>
/// Places a run's workers, shards and reducers deterministically from their keys (see
/// <see cref="RunPlacementDirector"/>), so consecutive ranks share a silo and every silo gets work.
/// </summary>
[GenerateSerializer, Immutable, Alias("dbp.RunPlacementStrategy")]
public sealed class RunPlacementStrategy : PlacementStrategy
{
    internal static RunPlacementStrategy Instance { get; } = new();
}

/// <summary>Marks a grain class as placed by <see cref="RunPlacementStrategy"/>; its key must be a
/// <see cref="RunGrainKey"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class RunPlacementAttribute : PlacementAttribute
{
    public RunPlacementAttribute()
        : base(RunPlacementStrategy.Instance)
    {
    }
}
