using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using DistributedBackprop.Cluster.Messages;

namespace DistributedBackprop.Cluster.Transport;

/// <summary>
/// One persistent connection to another silo's tensor channel, shared by every request to that silo. A request
/// is written whole by its caller (under a lock, so frames never interleave); a thread of its own reads the
/// replies, matches them to waiting requests by request id and reads a fetched slice straight into the
/// requester's memory. Any I/O failure or bad reply fails every waiting request and marks the connection
/// faulted; the channel then opens a new one for the next request.
/// </summary>
internal sealed class TensorClientConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly string _endpoint;
    private readonly TensorChannelCounters _counters;
    private readonly int _maxPayloadBytes;
    private readonly Lock _sendGate = new();
    private readonly ConcurrentDictionary<ulong, Pending> _pending = new();
    private readonly byte[] _header = new byte[
        TensorFrameHeader.FixedBytes + TensorFrameHeader.MaxRunIdBytes + TensorFrameHeader.MaxNodes * 8];
    private readonly byte[] _replyHeader = new byte[TensorFrameHeader.FixedBytes];
    private readonly byte[] _scratch = new byte[64 * 1024];
    private long _nextRequestId;
    private Exception? _fault;

    private TensorClientConnection(Socket socket, string endpoint, TensorChannelCounters counters, int maxPayload)
    {
        _socket = socket;
        _endpoint = endpoint;
        _counters = counters;
        _maxPayloadBytes = maxPayload;
        SocketStreams.StartThread("tensor channel to " + endpoint, ReadReplies);
    }

    public bool IsFaulted => Volatile.Read(ref _fault) is not null;

    /// <exception cref="TensorTransferException">The endpoint cannot be reached.</exception>
    public static async Task<TensorClientConnection> ConnectAsync(
        string endpoint,
        TensorChannelCounters counters,
        int maxPayloadBytes,
        TimeSpan timeout)
    {
        if (!IPEndPoint.TryParse(endpoint, out var address) || address.Port == 0)
        {
            throw new TensorTransferException(
                $"Tensor channel endpoint '{endpoint}' is not an IP address and port (e.g. 10.0.0.5:11112).");
        }

        // A blocking connect keeps the socket in blocking mode for the reader thread; closing the socket ends a
        // connect that outlives the timeout.
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            SocketStreams.Tune(socket, timeout);
            await Task.Run(() => socket.Connect(address)).WaitAsync(timeout);
            return new TensorClientConnection(socket, endpoint, counters, maxPayloadBytes);
        }
        catch (Exception exception) when (exception is SocketException or TimeoutException)
        {
            socket.Dispose();
            throw new TensorTransferException(
                $"Tensor channel: cannot connect to {endpoint}: {exception.Message}");
        }
    }

    /// <summary>Sends a push and completes when the shard has stored it, with the <see cref="Stopwatch"/>
    /// timestamp at which the acknowledgement was read.</summary>
    public Task<long> PushAsync(TensorFrameHeader header, TensorPush push, TimeSpan timeout) =>
        RequestAsync(header, push, default, timeout);

    /// <summary>Asks for a slice and completes when all its bytes are in <paramref name="destination"/>, with the
    /// <see cref="Stopwatch"/> timestamp at which the last byte was read.</summary>
    public Task<long> FetchAsync(TensorFrameHeader header, Memory<byte> destination, TimeSpan timeout) =>
        RequestAsync(header, null, destination, timeout);

    public void Dispose() => Fail(new ObjectDisposedException(nameof(TensorClientConnection)));

    private async Task<long> RequestAsync(
        TensorFrameHeader header,
        TensorPush? push,
        Memory<byte> destination,
        TimeSpan timeout)
    {
        header = header with { RequestId = (ulong)Interlocked.Increment(ref _nextRequestId) };
        var pending = new Pending(destination);
        _pending[header.RequestId] = pending;
        if (Volatile.Read(ref _fault) is { } fault)
        {
            _pending.TryRemove(header.RequestId, out _);
            throw Broken(fault);
        }

        Send(header, push);
        try
        {
            return await pending.Completion.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            _pending.TryRemove(header.RequestId, out _);
            throw new TensorTransferException(
                $"Tensor channel: no reply from {_endpoint} to {header.Kind} of shard {header.ShardIndex} "
                + $"(step {header.Step}) within {timeout}.");
        }
    }

    // On the caller's thread: with Nagle off and large kernel buffers a slice is copied into the kernel and the
    // call returns, without a hop to another thread.
    private void Send(TensorFrameHeader header, TensorPush? push)
    {
        try
        {
            lock (_sendGate)
            {
                int length = header.Write(_header);
                SocketStreams.SendAll(_socket, _header.AsSpan(0, length));
                foreach (var payload in push?.Payloads ?? [])
                {
                    SocketStreams.SendAll(_socket, payload.Span);
                }
            }
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            Fail(exception);
            throw Broken(Volatile.Read(ref _fault) ?? exception);
        }

        _counters.AddSent(header.PayloadLength);
    }

    private void ReadReplies()
    {
        try
        {
            while (true)
            {
                SocketStreams.ReceiveExactly(_socket, _replyHeader);
                var reply = TensorFrameHeader.ReadFixed(_replyHeader, requests: false, _maxPayloadBytes, out _, out _);
                if (!_pending.TryRemove(reply.RequestId, out var pending))
                {
                    // Its requester timed out and left.
                    SocketStreams.Skip(_socket, reply.PayloadLength, _scratch);
                    continue;
                }

                Complete(reply, pending);
            }
        }
        catch (Exception exception)
        {
            // Nothing may escape a thread of its own; every waiting request learns why the connection ended.
            Fail(exception);
        }
    }

    private void Complete(TensorFrameHeader reply, Pending pending)
    {
        switch (reply.Kind)
        {
            case TensorFrameKind.PushAck:
                pending.Completion.TrySetResult(Stopwatch.GetTimestamp());
                break;
            case TensorFrameKind.FetchReply when reply.PayloadLength != pending.Destination.Length:
                var mismatch = new TensorFrameException("PayloadLength",
                    $"Tensor channel frame field PayloadLength is {reply.PayloadLength}; the fetch expects "
                    + $"{pending.Destination.Length} bytes.");
                // Marked faulted before the requester resumes (it may resume on this thread), so its next request
                // opens a new connection instead of writing to this one.
                Fail(mismatch);
                pending.Completion.TrySetException(Broken(mismatch));
                throw mismatch;
            case TensorFrameKind.FetchReply:
                SocketStreams.ReceiveExactly(_socket, pending.Destination.Span);
                long received = Stopwatch.GetTimestamp();
                _counters.AddReceived(reply.PayloadLength);
                pending.Completion.TrySetResult(received);
                break;
            default:
                var text = new byte[reply.PayloadLength];
                SocketStreams.ReceiveExactly(_socket, text);
                pending.Completion.TrySetException(new TensorTransferException(
                    $"Tensor channel: the shard's silo at {_endpoint} failed the request: "
                    + Encoding.UTF8.GetString(text)));
                break;
        }
    }

    private void Fail(Exception exception)
    {
        if (Interlocked.CompareExchange(ref _fault, exception, null) is not null)
        {
            return;
        }

        _socket.Dispose();
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var pending))
            {
                pending.Completion.TrySetException(Broken(exception));
            }
        }
    }

    private TensorTransferException Broken(Exception cause) => new(
        $"Tensor channel: the connection to {_endpoint} failed: {cause.GetType().Name}: {cause.Message}");

    // Completed by the reader thread, with continuations run there rather than queued to the thread pool: the
    // awaiting reducer grain's continuation is only queued to the grain's own scheduler, so the reader is back
    // at its socket at once and the hop through the pool (which the silo's workers keep busy) is saved.
    private sealed class Pending(Memory<byte> destination)
    {
        public Memory<byte> Destination { get; } = destination;

        public TaskCompletionSource<long> Completion { get; } = new();
    }
}
