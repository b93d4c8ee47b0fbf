using DistributedBackprop.Contracts.V1;

namespace DistributedBackprop.Cli.Output;

/// <summary>Where `dbp` writes a run's events: a live terminal view or JSON lines.</summary>
internal interface IProgressSink
{
    /// <summary>Runs <paramref name="follow"/> inside the sink, so a live view can own the terminal
    /// meanwhile.</summary>
    Task<T> RunAsync<T>(Func<Task<T>> follow);

    /// <summary>One event of the run's log, in sequence order; called from one thread at a time.</summary>
    void OnEvent(RunEvent runEvent);

    /// <summary>The client itself failed (bad flags, invalid spec, unreachable server).</summary>
    void OnFailed(string reason);
}
