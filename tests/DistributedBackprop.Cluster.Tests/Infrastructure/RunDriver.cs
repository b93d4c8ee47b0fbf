using DistributedBackprop.Cluster.Coordinator;
using DistributedBackprop.Cluster.Serialization;
using DistributedBackprop.Contracts.V1;

namespace DistributedBackprop.Cluster.Tests.Infrastructure;

/// <summary>Starts a run on a cluster and follows its event log to the end.</summary>
public static class RunDriver
{
    /// <summary>Starts the run and returns every event up to and including the terminal one.</summary>
    /// <exception cref="TimeoutException">No terminal event within <paramref name="timeout"/>; names the last
    /// event seen.</exception>
    public static async Task<List<RunEvent>> RunToEndAsync(
        IGrainFactory grains,
        string runId,
        RunSpec spec,
        TimeSpan timeout)
    {
        var coordinator = grains.GetGrain<ICoordinatorGrain>(runId);
        await coordinator.StartAsync(spec);
        return await FollowToEndAsync(coordinator, 0, timeout);
    }

    /// <summary>Reads events after <paramref name="afterSequence"/> up to and including the terminal one.</summary>
    public static async Task<List<RunEvent>> FollowToEndAsync(
        ICoordinatorGrain coordinator,
        ulong afterSequence,
        TimeSpan timeout)
    {
        string runId = coordinator.GetPrimaryKeyString();
        var events = new List<RunEvent>();
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            ulong after = events.Count == 0 ? afterSequence : events[^1].Sequence;
            var batch = await coordinator.WaitForEventsAsync(after, 1000, TimeSpan.FromSeconds(5));
            events.AddRange(batch);
            if (events.Count > 0 && IsTerminal(events[^1]))
            {
                return events;
            }
        }

        string last = events.Count == 0 ? "none" : events[^1].EventCase.ToString();
        throw new TimeoutException(
            $"Run {runId} did not reach RunCompleted, RunFailed or RunCancelled within {timeout}; last event: {last}.");
    }

    /// <summary>The run's final flat parameter vector.</summary>
    public static async Task<float[]> ParametersAsync(IGrainFactory grains, string runId)
    {
        var bytes = await grains.GetGrain<ICoordinatorGrain>(runId).GetParametersAsync();
        return FloatBytes.AsFloats(bytes).ToArray();
    }

    public static bool IsTerminal(RunEvent e) => e.EventCase is RunEvent.EventOneofCase.RunCompleted
        or RunEvent.EventOneofCase.RunFailed or RunEvent.EventOneofCase.RunCancelled;
}
