namespace DistributedBackprop.Cluster;

/// <summary>What a silo tells the run grains it hosts: where its data lives and how many threads a worker
/// gets.</summary>
public sealed class TrainingSiloOptions
{
    /// <summary>Searched for &lt;DataDirectory&gt;/&lt;dataset name&gt; before the system dataset directory;
    /// null searches the system directory only.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>Kernel threads per worker when the spec leaves threads_per_worker at 0; 0 means
    /// max(1, processor count / workers on this silo).</summary>
    public int ThreadsPerWorker { get; set; }
}
