using DistributedBackprop.Contracts.V1;
using Grpc.Core;

namespace DistributedBackprop.Server.Tests.Infrastructure;

/// <summary>Reading WatchRun streams in tests, always under a deadline so a hung stream fails the test.</summary>
public static class RunEvents
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>Every event after <paramref name="afterSequence"/> up to the end of the stream.</summary>
    public static async Task<List<RunEvent>> WatchToEndAsync(
        TrainingService.TrainingServiceClient client,
        string runId,
        ulong afterSequence = 0)
    {
        using var call = client.WatchRun(
            new WatchRunRequest { RunId = runId, AfterSequence = afterSequence },
            deadline: DateTime.UtcNow + Timeout);
        var events = new List<RunEvent>();
        await foreach (var runEvent in call.ResponseStream.ReadAllAsync())
        {
            events.Add(runEvent);
        }

        return events;
    }

    /// <summary>Reads until <paramref name="stop"/> holds for an event (included), then leaves the call open.</summary>
    public static async Task<List<RunEvent>> ReadUntilAsync(
        IAsyncStreamReader<RunEvent> stream,
        Func<RunEvent, bool> stop)
    {
        var events = new List<RunEvent>();
        while (await stream.MoveNext())
        {
            events.Add(stream.Current);
            if (stop(stream.Current))
            {
                return events;
            }
        }

        throw new InvalidOperationException(
            $"The stream ended after {events.Count} events without the awaited event.");
    }

    public static bool IsTerminal(RunEvent e) => e.EventCase is RunEvent.EventOneofCase.RunCompleted
        or RunEvent.EventOneofCase.RunFailed or RunEvent.EventOneofCase.RunCancelled;

    /// <summary>Asserts sequences first..first+n-1 without gap or duplicate, all of run
    /// <paramref name="runId"/>.</summary>
    public static void AssertContiguous(IReadOnlyList<RunEvent> events, string runId, ulong first = 1)
    {
        for (int i = 0; i < events.Count; i++)
        {
            Assert.Equal(first + (ulong)i, events[i].Sequence);
            Assert.Equal(runId, events[i].RunId);
        }
    }
}
