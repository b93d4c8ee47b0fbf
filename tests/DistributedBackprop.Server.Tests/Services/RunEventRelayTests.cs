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
        // The log holds back events after 4 until the writer is stuck on the 4th, so the buffer fills while the
        // writer has finished exactly 3.
        var writerStuck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var source = new ListSource(100, batch: 4, gateAfter: 4, gate: writerStuck.Task);
        var relay = new RunEventRelay(source, capacity: 4, stallTimeout: TimeSpan.Zero);
        var never = new TaskCompletionSource();
        int writes = 0;

        var error = await Assert.ThrowsAsync<WatcherLaggedException>(() => relay.RelayAsync(0, (e, cancellation) =>
        {
            if (++writes <= 3)
            {
                return Task.CompletedTask;
            }

            writerStuck.TrySetResult();
            return never.Task.WaitAsync(cancellation);
        }, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(3ul, error.ResumeAfter);
        Assert.True(source.LastRead < 100, "the relay kept reading the log for a stalled watcher");
    }

    // A finished log of `count` events, served `batch` at a time; events after `gateAfter` wait for `gate`.
    private sealed class ListSource(int count, int batch, ulong gateAfter = ulong.MaxValue, Task? gate = null)
        : IRunEventSource
    {
        public ulong LastRead { get; private set; }

        public async Task<EventBatch> ReadAsync(ulong afterSequence, int max, CancellationToken cancellation)
        {
            if (afterSequence >= gateAfter && gate is not null)
            {
                await gate.WaitAsync(cancellation);
            }

            int take = (int)Math.Min((ulong)Math.Min(batch, max), (ulong)count - afterSequence);
            var events = Enumerable.Range(1, take)
                .Select(i => new RunEvent { Sequence = afterSequence + (ulong)i, RunId = "r" })
                .ToList();
            LastRead = afterSequence + (ulong)take;
            return new EventBatch(events, LastRead == (ulong)count);
        }
    }
}
