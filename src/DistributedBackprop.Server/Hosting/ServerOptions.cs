namespace DistributedBackprop.Server.Hosting;

/// <summary>What the server listens on and how it treats watchers; bound from the <c>Server</c> configuration
/// section (environment: <c>Server__GrpcPort</c> and so on).</summary>
public sealed class ServerOptions
{
    public const string SectionName = "Server";

    /// <summary>The address both endpoints bind: 0.0.0.0 for every interface, 127.0.0.1 for this machine
    /// only.</summary>
    public string ListenAddress { get; set; } = "0.0.0.0";

    /// <summary>TCP port of the gRPC endpoint (HTTP/2 only, no TLS); 0 picks a free port.</summary>
    public int GrpcPort { get; set; } = 50051;

    /// <summary>TCP port of the HTTP/1.1 endpoint (/healthz; room for /metrics); 0 picks a free port.</summary>
    public int HttpPort { get; set; } = 8080;

    /// <summary>Events buffered per WatchRun call between reading the run's log and writing to the client.</summary>
    public int WatchBufferEvents { get; set; } = 256;

    /// <summary>How long a watcher's full buffer may stay full before the call is ended with the sequence to
    /// resume from. Training never waits for watchers; this only frees the server from stalled clients.</summary>
    public TimeSpan WatchStallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>On SIGTERM, how long running runs get to finish their current step and record their
    /// cancellation before the silo stops.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Every problem with these options, each naming the setting, its value and what is allowed.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!System.Net.IPAddress.TryParse(ListenAddress, out _))
        {
            errors.Add($"Server:{nameof(ListenAddress)} is '{ListenAddress}'; use an IP address such as 0.0.0.0 "
                + "or 127.0.0.1.");
        }

        CheckPort(errors, nameof(GrpcPort), GrpcPort);
        CheckPort(errors, nameof(HttpPort), HttpPort);
        if (GrpcPort != 0 && GrpcPort == HttpPort)
        {
            errors.Add($"Server:{nameof(GrpcPort)} and Server:{nameof(HttpPort)} are both {GrpcPort}; they must "
                + "differ (gRPC needs an HTTP/2-only port).");
        }

        if (WatchBufferEvents < 1)
        {
            errors.Add($"Server:{nameof(WatchBufferEvents)} is {WatchBufferEvents}; use 1 or more.");
        }

        if (WatchStallTimeout < TimeSpan.Zero)
        {
            errors.Add($"Server:{nameof(WatchStallTimeout)} is {WatchStallTimeout}; use 0 or a positive duration.");
        }

        if (ShutdownTimeout < TimeSpan.Zero)
        {
            errors.Add($"Server:{nameof(ShutdownTimeout)} is {ShutdownTimeout}; use 0 or a positive duration.");
        }

        return errors;
    }

    private static void CheckPort(List<string> errors, string name, int port)
    {
        if (port is < 0 or > 65535)
        {
            errors.Add($"Server:{name} is {port}; use a TCP port in 1-65535, or 0 for a free one.");
        }
    }
}
