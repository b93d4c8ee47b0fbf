namespace DistributedBackprop.Cluster.Reduction;

/// <summary>
/// One silo's copy of a run's flat parameter vector: its reducer writes it and the local workers' replicas read
/// it in place, so a version reaches N local workers without N copies or N calls. <see cref="Version"/> is the
/// version every slice of <see cref="Values"/> holds, or -1 while the slices differ.
/// </summary>
/// <remarks>
/// Shared by reference between grains of one silo, like every in-silo run message; the step protocol (see
/// <c>CoordinatorGrain</c>) makes that safe: the reducer writes only while none of its workers computes (when
/// they ask for a version it lacks, and when the last of them has contributed), and the grain calls in
/// between order those writes before the workers' reads. A copy that crossed silos is never updated, so its
/// holder simply asks the reducer each time.
/// </remarks>
[GenerateSerializer, Immutable, Alias("dbp.SiloParameters")]
public sealed class SiloParameters
{
    [Id(1)]
    private long _version = -1;

    public SiloParameters(float[] values)
    {
        Values = values;
    }

    /// <summary>The parameter vector, in the model's layout. Read only, except by the reducer.</summary>
    [Id(0)]
    public float[] Values { get; }

    /// <summary>The parameter version all of <see cref="Values"/> holds; -1 when unknown or mixed.</summary>
    public long Version => Volatile.Read(ref _version);

    internal void SetVersion(long version) => Volatile.Write(ref _version, version);
}
