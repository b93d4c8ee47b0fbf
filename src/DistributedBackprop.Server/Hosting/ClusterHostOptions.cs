namespace DistributedBackprop.Server.Hosting;

/// <summary>How a silo joins its cluster; bound from the <c>Cluster</c> configuration section
/// (environment: <c>Cluster__SiloPort</c> and so on).</summary>
public sealed class ClusterHostOptions
{
    public const string SectionName = "Cluster";

    /// <summary>Silo-to-silo TCP port.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Client gateway TCP port.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Localhost clustering only: the silo port of the primary silo; null or equal to
    /// <see cref="SiloPort"/> makes this silo the primary.</summary>
    public int? PrimarySiloPort { get; set; }

    /// <summary>Silos with the same cluster id form one cluster.</summary>
    public string ClusterId { get; set; } = "dbp";

    /// <summary>Names the application across cluster restarts.</summary>
    public string ServiceId { get; set; } = "distributed-backprop";

    /// <summary>Searched for datasets by name before /usr/share/datasets.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>A StackExchange.Redis connection string (e.g. <c>127.0.0.1:6379</c>); when set, silos find
    /// each other through Redis instead of localhost clustering.</summary>
    public string? Redis { get; set; }

    /// <summary>Kernel threads per worker when a spec does not say; 0 divides the processors among the
    /// silo's workers.</summary>
    public int ThreadsPerWorker { get; set; }

    /// <summary>How far below the silo's messaging and tensor transfers the workers' compute threads run: a Linux
    /// nice increment, 1-19; 0 (the default, and what an embedded server uses) computes on the grain's turn.
    /// Worth it when silos share cores, so transfers do not wait behind compute; the standalone server's
    /// appsettings.json sets 10.</summary>
    public int ComputeNiceness { get; set; }

    /// <summary>Carry gradient pushes and parameter fetches between silos over the tensor channel (plain TCP,
    /// several times faster than Orleans messaging for large arrays); false keeps them on Orleans.</summary>
    public bool TensorChannel { get; set; } = true;

    /// <summary>The tensor channel's TCP port, bound at the silo's advertised address; 0 (the default) picks a
    /// free one, which suits one host. Containers pin it (the image uses 11112) so it can be declared and
    /// allowed through network policies.</summary>
    public int TensorPort { get; set; }

    /// <summary>Largest grain message in bytes, for silos and clients alike, and largest tensor channel
    /// payload. Gradient pushes carry up to log2(micro-batches) + 1 shard slices; the Orleans default of 100 MB
    /// fails (misleadingly, as an unavailable silo) for models past a few million parameters.</summary>
    public int MaxMessageBodySize { get; set; } = 512 * 1024 * 1024;

    /// <summary>How long a grain call may take, e.g. a first step that loads the dataset.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Redis clustering: how long a probe may go unanswered before it counts as missed.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Redis clustering: missed probes before a silo is suspected.</summary>
    public int NumMissedProbesLimit { get; set; } = 3;

    /// <summary>Every problem with these options, each naming the setting, its value and what is allowed.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        CheckPort(errors, nameof(SiloPort), SiloPort);
        CheckPort(errors, nameof(GatewayPort), GatewayPort);
        if (PrimarySiloPort is int primary)
        {
            CheckPort(errors, nameof(PrimarySiloPort), primary);
        }

        if (TensorPort is < 0 or > 65535)
        {
            errors.Add($"Cluster:{nameof(TensorPort)} is {TensorPort}; use a TCP port in 1-65535, or 0 for a free "
                + "one.");
        }

        if (TensorPort != 0 && (TensorPort == SiloPort || TensorPort == GatewayPort))
        {
            errors.Add($"Cluster:{nameof(TensorPort)} is {TensorPort}, the same as the silo or gateway port; use "
                + "a port of its own.");
        }

        if (SiloPort == GatewayPort)
        {
            errors.Add($"Cluster:{nameof(SiloPort)} and Cluster:{nameof(GatewayPort)} are both {SiloPort}; "
                + "they must differ.");
        }

        if (string.IsNullOrWhiteSpace(ClusterId))
        {
            errors.Add($"Cluster:{nameof(ClusterId)} is empty; give the cluster a name.");
        }

        if (string.IsNullOrWhiteSpace(ServiceId))
        {
            errors.Add($"Cluster:{nameof(ServiceId)} is empty; give the service a name.");
        }

        if (ThreadsPerWorker < 0)
        {
            errors.Add($"Cluster:{nameof(ThreadsPerWorker)} is {ThreadsPerWorker}; use 0 (automatic) or more.");
        }

        if (ComputeNiceness is < 0 or > 19)
        {
            errors.Add($"Cluster:{nameof(ComputeNiceness)} is {ComputeNiceness}; use 0 (normal priority) to 19.");
        }

        if (MaxMessageBodySize < 1024 * 1024)
        {
            errors.Add($"Cluster:{nameof(MaxMessageBodySize)} is {MaxMessageBodySize} bytes; use at least "
                + "1048576 (gradient messages are large).");
        }

        if (ResponseTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Cluster:{nameof(ResponseTimeout)} is {ResponseTimeout}; use a positive duration.");
        }

        return errors;
    }

    private static void CheckPort(List<string> errors, string name, int port)
    {
        if (port is < 1 or > 65535)
        {
            errors.Add($"Cluster:{name} is {port}; use a TCP port in 1-65535.");
        }
    }
}
