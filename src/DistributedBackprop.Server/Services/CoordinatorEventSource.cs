using DistributedBackprop.Cluster.Coordinator;
using DistributedBackprop.Contracts.V1;

namespace DistributedBackprop.Server.Services;

/// <summary>Reads a run's log from its coordinator by long polling, wherever in the cluster it lives.</summary>
internal sealed class CoordinatorEventSource(ICoordinatorGrain coordinator) : IRunEventSource
{
    // Long enough that an idle watcher costs a call every few seconds, short enough to notice a cancelled call.
    private static readonly TimeSpan PollTimeout = TimeSpan.FromSeconds(5);

    public async Task<EventBatch> ReadAsync(ulong afterSequence, int max, CancellationToken cancellation)
    {
        var events = await coordinator.WaitForEventsAsync(afterSequence, max, PollTimeout).WaitAsync(cancellation);
        if (events.Count > 0)
        {
            return new EventBatch(events, IsTerminal(events[^1]));
        }

        var status = await coordinator.GetStatusAsync().WaitAsync(cancellation);
        return new EventBatch(events, status.IsFinished && status.LastSequence <= afterSequence);
    }

    public static bool IsTerminal(RunEvent runEvent) => runEvent.EventCase is RunEvent.EventOneofCase.RunCompleted
        or RunEvent.EventOneofCase.RunFailed or RunEvent.EventOneofCase.RunCancelled;
}
