using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using DistributedBackprop.Cluster.Messages;

namespace DistributedBackprop.Cluster.Transport;

/// <summary>
/// One persistent connection to another silo's tensor channel, shared by every request to that silo. Writes
/// are serialized (a frame goes out whole); one reader matches replies to waiting requests by request id and
/// reads a fetched slice straight into the requester's memory. Any I/O failure or bad reply fails every
/// waiting request and marks the connection faulted; the channel then opens a new one for the next request.
/// </summary>
internal sealed class TensorClientConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly string _endpoint;
    private readonly TensorChannelCounters _counters;
    private readonly int _maxPayloadBytes;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<ulong, Pending> _pending = new();
    private readonly CancellationTokenSource _closed = new();
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
        _ = ReadRepliesAsync();
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

        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            SocketStreams.Tune(socket);
            using var cancel = new CancellationTokenSource(timeout);
            await socket.ConnectAsync(address, cancel.Token);
            return new TensorClientConnection(socket, endpoint, counters, maxPayloadBytes);
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            throw new TensorTransferException(
                $"Tensor channel: cannot connect to {endpoint}: {exception.Message}", exception);
        }
    }

    /// <summary>Sends a push and completes when the shard has stored it.</summary>
    public Task PushAsync(TensorFrameHeader header, ShardContribution push, TimeSpan timeout) =>
        RequestAsync(header, push, default, timeout);

    /// <summary>Asks for a slice and completes when all its bytes are in <paramref name="destination"/>.</summary>
    public Task FetchAsync(TensorFrameHeader header, Memory<byte> destination, TimeSpan timeout) =>
        RequestAsync(header, null, destination, timeout);

    public void Dispose() => Fail(new ObjectDisposedException(nameof(TensorClientConnection)));

    private async Task RequestAsync(
        TensorFrameHeader header,
        ShardContribution? push,
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

        await SendAsync(header, push);
        try
        {
            await pending.Completion.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            _pending.TryRemove(header.RequestId, out _);
            throw new TensorTransferException(
                $"Tensor channel: no reply from {_endpoint} to {header.Kind} of shard {header.ShardIndex} "
                + $"(step {header.Step}) within {timeout}.");
        }
    }

    private async Task SendAsync(TensorFrameHeader header, ShardContribution? push)
    {
        try
        {
            await _writeLock.WaitAsync(_closed.Token);
            try
            {
                int length = header.Write(_header);
                await SocketStreams.SendAllAsync(_socket, _header.AsMemory(0, length), _closed.Token);
                foreach (var node in push?.Nodes ?? [])
                {
                    await SocketStreams.SendAllAsync(_socket, node.Values, _closed.Token);
                }
            }
            finally
            {
                _writeLock.Release();
            }
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException
            or ObjectDisposedException or IOException)
        {
            Fail(exception);
            throw Broken(_fault ?? exception);
        }

        _counters.AddSent(header.PayloadLength);
    }

    private async Task ReadRepliesAsync()
    {
        try
        {
            while (true)
            {
                var memory = _replyHeader.AsMemory();
                await SocketStreams.ReceiveExactlyAsync(_socket, memory, _closed.Token);
                var reply = TensorFrameHeader.ReadFixed(_replyHeader, requests: false, _maxPayloadBytes, out _, out _);
                if (!_pending.TryRemove(reply.RequestId, out var pending))
                {
                    // Its requester timed out and left.
                    await SocketStreams.SkipAsync(_socket, reply.PayloadLength, _scratch, _closed.Token);
                    continue;
                }

                await CompleteAsync(reply, pending);
            }
        }
        catch (Exception exception)
        {
            Fail(exception);
        }
    }

    private async Task CompleteAsync(TensorFrameHeader reply, Pending pending)
    {
        switch (reply.Kind)
        {
            case TensorFrameKind.PushAck:
                pending.Completion.TrySetResult();
                break;
            case TensorFrameKind.FetchReply when reply.PayloadLength != pending.Destination.Length:
                var mismatch = new TensorFrameException("PayloadLength",
                    $"Tensor channel frame field PayloadLength is {reply.PayloadLength}; the fetch expects "
                    + $"{pending.Destination.Length} bytes.");
                pending.Completion.TrySetException(Broken(mismatch));
                throw mismatch;
            case TensorFrameKind.FetchReply:
                await SocketStreams.ReceiveExactlyAsync(_socket, pending.Destination, _closed.Token);
                _counters.AddReceived(reply.PayloadLength);
                pending.Completion.TrySetResult();
                break;
            default:
                var text = new byte[reply.PayloadLength];
                await SocketStreams.ReceiveExactlyAsync(_socket, text, _closed.Token);
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

        _closed.Cancel();
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
        $"Tensor channel: the connection to {_endpoint} failed: {cause.GetType().Name}: {cause.Message}", cause);

    private sealed class Pending(Memory<byte> destination)
    {
        public Memory<byte> Destination { get; } = destination;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
