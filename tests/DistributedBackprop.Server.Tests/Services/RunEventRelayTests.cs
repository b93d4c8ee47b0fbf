using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Server.Services;

namespace DistributedBackprop.Server.Tests.Services;

public sealed class RunEventRelayTests
{
    [Fact]
    public async Task RelayAsync_ReaderKeepsUp_WritesEveryEventAfterTheStartInOrder()
    {
        var source = new ListSource(20, batch: 3);
        var relay = new RunEventRelay(source, capacity: 4, stallTimeout: TimeSpan.FromMinutes(1));
        var written = new List<ulong>();

        await relay.RelayAsync(5, (e, _) =>
        {
            written.Add(e.Sequence);
            return Task.CompletedTask;
        }, CancellationToken.None);

        Assert.Equal(Enumerable.Range(6, 15).Select(i => (ulong)i), written);
    }

    [Fact]
    public async Task RelayAsync_WriterStallsWithFullBuffer_EndsWithTheLastSequenceWritten()
    {
        var source = new ListSource(100, batch: 10);
        var relay = new RunEventRelay(source, capacity: 4, stallTimeout: TimeSpan.Zero);
        var stalled = new TaskCompletionSource();
        int writes = 0;

        var error = await Assert.ThrowsAsync<WatcherLaggedException>(() => relay.RelayAsync(0, (e, cancellation) =>
        {
            // The first three events go out; then the client stops reading.
            return ++writes <= 3 ? Task.CompletedTask : stalled.Task.WaitAsync(cancellation);
        }, CancellationToken.None));

        Assert.Equal(3ul, error.ResumeAfter);
        Assert.True(source.LastRead < 100, "the relay kept reading the log for a stalled watcher");
    }

    // A finished log of `count` events, served `batch` at a time.
    private sealed class ListSource(int count, int batch) : IRunEventSource
    {
        public ulong LastRead { get; private set; }

        public Task<EventBatch> ReadAsync(ulong afterSequence, int max, CancellationToken cancellation)
        {
            int take = (int)Math.Min((ulong)Math.Min(batch, max), (ulong)count - afterSequence);
            var events = Enumerable.Range(1, take)
                .Select(i => new RunEvent { Sequence = afterSequence + (ulong)i, RunId = "r" })
                .ToList();
            LastRead = afterSequence + (ulong)take;
            return Task.FromResult(new EventBatch(events, LastRead == (ulong)count));
        }
    }
}
