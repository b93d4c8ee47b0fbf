using DistributedBackprop.Contracts.V1;
using Google.Protobuf.WellKnownTypes;

namespace DistributedBackprop.Cluster.Coordinator;

/// <summary>
/// A run's ordered event log: sequence numbers from 1 without gaps, stamped on append. Lives inside the
/// coordinator activation and is touched only on its scheduler, so it needs no locks.
/// </summary>
internal sealed class RunEventLog(string runId)
{
    private readonly List<RunEvent> _events = [];
    private TaskCompletionSource _appended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ulong LastSequence => (ulong)_events.Count;

    public RunEvent Append(RunEvent runEvent)
    {
        runEvent.Sequence = (ulong)_events.Count + 1;
        runEvent.Timestamp = Timestamp.FromDateTime(DateTime.UtcNow);
        runEvent.RunId = runId;
        _events.Add(runEvent);
        _appended.TrySetResult();
        _appended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return runEvent;
    }

    /// <summary>Up to <paramref name="max"/> events after <paramref name="afterSequence"/>, as copies.</summary>
    public List<RunEvent> After(ulong afterSequence, int max)
    {
        int start = (int)Math.Min(afterSequence, (ulong)_events.Count);
        int count = Math.Min(Math.Max(max, 0), _events.Count - start);
        return _events.GetRange(start, count).Select(e => e.Clone()).ToList();
    }

    /// <summary>Waits until an event after <paramref name="afterSequence"/> exists or the timeout passes.</summary>
    public async Task<List<RunEvent>> WaitAfterAsync(ulong afterSequence, int max, TimeSpan timeout)
    {
        if (LastSequence <= afterSequence && timeout > TimeSpan.Zero)
        {
            await Task.WhenAny(_appended.Task, Task.Delay(timeout));
        }

        return After(afterSequence, max);
    }
}
