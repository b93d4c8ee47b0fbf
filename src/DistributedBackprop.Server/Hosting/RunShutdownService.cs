using DistributedBackprop.Cluster.Coordinator;
using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Cluster.Registry;
using DistributedBackprop.Contracts.V1;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DistributedBackprop.Server.Hosting;

/// <summary>
/// Graceful stop (SIGTERM, Ctrl+C, host disposal): before the silo goes, every run coordinated on this silo is
/// cancelled, so it finishes the step in progress and records RunCancelled instead of failing halfway. It works
/// in the host's stopping phase, before any hosted service stops: Kestrel must still be serving so watchers
/// receive the RunCancelled event, and Kestrel's own stop waits for those streams to end.
/// </summary>
internal sealed partial class RunShutdownService(
    IGrainFactory grains,
    ILocalSiloDetails silo,
    IOptions<ServerOptions> options,
    ILogger<RunShutdownService> logger) : IHostedLifecycleService
{
    private static readonly RunState[] ActiveStates = [RunState.Pending, RunState.Running];

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Value.ShutdownTimeout);
        try
        {
            var local = await LocalActiveRunsAsync(deadline.Token);
            foreach (var run in local)
            {
                LogCancelling(run.RunId);
            }

            await Task.WhenAll(local.Select(run => CancelAndWaitAsync(run.RunId, deadline.Token)));
        }
        catch (Exception exception)
        {
            LogShutdownIncomplete(exception.Message);
        }
    }

    private async Task<List<RunStatus>> LocalActiveRunsAsync(CancellationToken cancellation)
    {
        string here = silo.SiloAddress.ToParsableString();
        var registry = grains.GetGrain<IRunRegistryGrain>(RunRegistry.Key);
        var runs = new List<RunStatus>();
        int before = 0;
        do
        {
            var page = await registry.ListAsync(ActiveStates, before, 1000).WaitAsync(cancellation);
            runs.AddRange(page.Runs.Where(r => r.Silo == here));
            before = page.Next;
        }
        while (before > 0);
        return runs;
    }

    private async Task CancelAndWaitAsync(string runId, CancellationToken cancellation)
    {
        var coordinator = grains.GetGrain<ICoordinatorGrain>(runId);
        await coordinator.CancelAsync("the server is shutting down").WaitAsync(cancellation);
        var status = await coordinator.GetStatusAsync().WaitAsync(cancellation);
        while (!status.IsFinished)
        {
            await coordinator.WaitForEventsAsync(status.LastSequence, 1, TimeSpan.FromSeconds(1))
                .WaitAsync(cancellation);
            status = await coordinator.GetStatusAsync().WaitAsync(cancellation);
        }
    }

    [LoggerMessage(30, LogLevel.Information, "Shutting down: cancelling run {RunId} after its current step")]
    private partial void LogCancelling(string runId);

    [LoggerMessage(31, LogLevel.Warning, "Shutting down before every run recorded its end: {Reason}")]
    private partial void LogShutdownIncomplete(string reason);
}
