using System.Threading.Channels;
using DistributedBackprop.Contracts.V1;

namespace DistributedBackprop.Server.Services;

/// <summary>Reads a run's event log in order, from any silo.</summary>
internal interface IRunEventSource
{
    /// <summary>Events after <paramref name="afterSequence"/>, waiting a while for new ones when there are none;
    /// <see cref="EventBatch.Ended"/> once the batch holds (or the log already ended with) the terminal
    /// event.</summary>
    Task<EventBatch> ReadAsync(ulong afterSequence, int max, CancellationToken cancellation);
}

/// <param name="Events">Consecutive events, in sequence order; may be empty.</param>
/// <param name="Ended">No event follows these.</param>
internal sealed record EventBatch(IReadOnlyList<RunEvent> Events, bool Ended);

/// <summary>A watcher fell too far behind and was dropped; it resumes with after_sequence =
/// <see cref="ResumeAfter"/>.</summary>
internal sealed class WatcherLaggedException(ulong resumeAfter, int bufferedEvents, TimeSpan stalled)
    : Exception(
        $"The watcher did not take any of its {bufferedEvents} buffered events for {stalled.TotalSeconds:F0} s.")
{
    public ulong ResumeAfter { get; } = resumeAfter;
}

/// <summary>
/// Copies one watcher's events from the run's log to its stream through a bounded buffer. Training never waits
/// for a watcher (the log is read, never pushed), so the buffer only bounds the server's memory per watcher: a
/// watcher whose buffer stays full for the stall timeout is dropped with the last sequence it was sent.
/// </summary>
/// <remarks>One instance per watch call.</remarks>
internal sealed class RunEventRelay(IRunEventSource source, int capacity, TimeSpan stallTimeout)
{
    // Set by the pump before it stops the writer, read by the writer after it stopped.
    private volatile bool _lagged;

    /// <summary>Writes every event after <paramref name="afterSequence"/> through <paramref name="write"/>, in
    /// order, and returns after the terminal event.</summary>
    /// <exception cref="WatcherLaggedException">The writer stalled with a full buffer.</exception>
    public async Task RelayAsync(
        ulong afterSequence,
        Func<RunEvent, CancellationToken, Task> write,
        CancellationToken cancellation)
    {
        var buffer = Channel.CreateBounded<RunEvent>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var reading = FillAsync(afterSequence, buffer.Writer, stop);

        ulong written = afterSequence;
        try
        {
            await foreach (var runEvent in buffer.Reader.ReadAllAsync(stop.Token))
            {
                await write(runEvent, stop.Token);
                written = runEvent.Sequence;
            }
        }
        catch (OperationCanceledException) when (_lagged)
        {
            throw new WatcherLaggedException(written, capacity, stallTimeout);
        }
        finally
        {
            await stop.CancelAsync();
            await reading;
        }

        if (_lagged)
        {
            throw new WatcherLaggedException(written, capacity, stallTimeout);
        }
    }

    // The pump: reads the log into the buffer; on a stall it flags the lag and stops the writer.
    private async Task FillAsync(
        ulong afterSequence,
        ChannelWriter<RunEvent> buffer,
        CancellationTokenSource stop)
    {
        try
        {
            ulong after = afterSequence;
            while (true)
            {
                var batch = await source.ReadAsync(after, capacity, stop.Token);
                foreach (var runEvent in batch.Events)
                {
                    if (!buffer.TryWrite(runEvent))
                    {
                        if (!await WaitForRoomAsync(buffer, stop.Token))
                        {
                            _lagged = true;
                            await stop.CancelAsync();
                            buffer.TryComplete();
                            return;
                        }

                        // The only writer: the room just seen is still there.
                        buffer.TryWrite(runEvent);
                    }

                    after = runEvent.Sequence;
                }

                if (batch.Ended)
                {
                    buffer.TryComplete();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            buffer.TryComplete();
        }
        catch (Exception exception)
        {
            buffer.TryComplete(exception);
        }
    }

    private async Task<bool> WaitForRoomAsync(ChannelWriter<RunEvent> buffer, CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(stallTimeout);
        try
        {
            return await buffer.WaitToWriteAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return false;
        }
    }
}
