namespace DistributedBackprop.Cluster;

/// <summary>What a silo tells the run grains it hosts: where its data lives, how many threads a worker gets,
/// and how its tensor channel moves gradients and parameters between silos.</summary>
public sealed class TrainingSiloOptions
{
    /// <summary>Searched for &lt;DataDirectory&gt;/&lt;dataset name&gt; before the system dataset directory;
    /// null searches the system directory only.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>Kernel threads per worker when the spec leaves threads_per_worker at 0; 0 means
    /// max(1, processor count / workers on this silo).</summary>
    public int ThreadsPerWorker { get; set; }

    /// <summary>How far below the silo's other threads each worker's compute thread runs (a Linux nice
    /// increment, 0-19; elsewhere any positive value is below normal), so transfers and messaging never wait
    /// behind a forward or backward pass. 0 (the default) computes on the grain's turn at normal priority.
    /// </summary>
    public int ComputeNiceness { get; set; }

    /// <summary>Send gradient pushes and parameter fetches to shards on other silos over the tensor channel
    /// (plain TCP) instead of Orleans messaging. Default true; false keeps every transfer on Orleans.</summary>
    public bool TensorChannel { get; set; } = true;

    /// <summary>TCP port the tensor channel listens on, at the silo's advertised address; 0 picks a free
    /// one.</summary>
    public int TensorPort { get; set; }

    /// <summary>Largest tensor channel payload in bytes (one push or one slice); larger frames are refused.</summary>
    public int TensorMaxPayloadBytes { get; set; } = 512 * 1024 * 1024;

    /// <summary>How long a push or fetch over the tensor channel may wait for its reply.</summary>
    public TimeSpan TensorTimeout { get; set; } = TimeSpan.FromMinutes(5);
}
