using System.Net.Sockets;
using System.Text;
using DistributedBackprop.Cluster.Messages;
using Microsoft.Extensions.Logging;

namespace DistributedBackprop.Cluster.Transport;

/// <summary>
/// The listening side of one connection from another silo: a thread of its own reads request frames and hands
/// each to the <see cref="IShardBridge"/>; the reply is written on the same connection by this thread when the
/// bridge answers at once (the shard's mailbox), else by whichever thread completes the shard's call. Requests are read one after another but handled
/// concurrently (a push to one shard does not wait for a fetch from another), so replies may leave in any
/// order; the request id matches them. A frame that breaks the format closes this connection only.
/// </summary>
internal sealed partial class TensorServerConnection(
    Socket socket,
    IShardBridge bridge,
    TensorChannelCounters counters,
    int maxPayloadBytes,
    ILogger logger,
    Action<TensorServerConnection> ended)
{
    private readonly string _peer = socket.RemoteEndPoint?.ToString() ?? "unknown peer";
    private readonly Lock _sendGate = new();
    private readonly PushBufferCache _buffers = new();

    // Fixed part plus the largest variable part: a run id and MaxNodes node ranges.
    private readonly byte[] _header = new byte[
        TensorFrameHeader.FixedBytes + TensorFrameHeader.MaxRunIdBytes + TensorFrameHeader.MaxNodes * 8];
    private readonly byte[] _replyHeader = new byte[TensorFrameHeader.FixedBytes];

    // A push's result: an acknowledgement carries no payload.
    private static readonly Task<byte[]> Stored = Task.FromResult(Array.Empty<byte>());

    /// <summary>Serves on a new thread until the peer closes, a frame is bad or the socket is closed.</summary>
    public void Start() => SocketStreams.StartThread("tensor channel from " + _peer, Serve);

    /// <summary>Closes the connection; the serving thread ends.</summary>
    public void Close() => socket.Dispose();

    private void Serve()
    {
        try
        {
            while (true)
            {
                var header = ReadHeader();
                var call = header.Kind == TensorFrameKind.PushRequest
                    ? Push(header, ReadPush(header))
                    : Fetch(header);
                if (call.IsCompleted)
                {
                    // The mailbox answered: reply from this thread.
                    Reply(header, call);
                    continue;
                }

                call.ContinueWith(
                    done => Reply(header, done),
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }
        }
        catch (TensorFrameException bad)
        {
            LogBadFrame(logger, _peer, bad.Field, bad.Message);
        }
        catch (Exception exception) when (exception is EndOfStreamException or SocketException
            or ObjectDisposedException)
        {
            LogClosed(logger, _peer, exception.Message);
        }
        catch (Exception exception)
        {
            // Nothing may escape a thread of its own: it would end the silo's process.
            LogFailed(logger, _peer, $"{exception.GetType().Name}: {exception.Message}");
        }
        finally
        {
            // Replies still being handled find the socket closed and give up (see Reply).
            socket.Dispose();
            ended(this);
        }
    }

    private TensorFrameHeader ReadHeader()
    {
        SocketStreams.ReceiveExactly(socket, _header.AsSpan(0, TensorFrameHeader.FixedBytes));
        var header = TensorFrameHeader.ReadFixed(
            _header, requests: true, maxPayloadBytes, out int runIdBytes, out int nodeCount);
        var rest = _header.AsSpan(TensorFrameHeader.FixedBytes, runIdBytes + nodeCount * 8);
        SocketStreams.ReceiveExactly(socket, rest);
        return header.WithVariable(rest, runIdBytes, nodeCount);
    }

    // The shard's own grain calls; a synchronous throw becomes a failed call like any other. A fetch's result is
    // the slice to send; a push has none.
    private Task<byte[]> Push(TensorFrameHeader header, ShardContribution push)
    {
        try
        {
            var stored = bridge.PushAsync(header.RunId, header.ShardIndex, header.ShardCount, push);
            if (stored.IsCompletedSuccessfully)
            {
                return Stored;
            }

            return stored.ContinueWith(
                    static done =>
                    {
                        done.GetAwaiter().GetResult();
                        return Array.Empty<byte>();
                    },
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
        }
        catch (Exception exception)
        {
            return Task.FromException<byte[]>(exception);
        }
    }

    private Task<byte[]> Fetch(TensorFrameHeader header)
    {
        try
        {
            return bridge.GetParametersAsync(header.RunId, header.ShardIndex, header.ShardCount, header.Step);
        }
        catch (Exception exception)
        {
            return Task.FromException<byte[]>(exception);
        }
    }

    // Each node's slice goes into its own array, which the shard will hold (see PushBufferCache).
    private ShardContribution ReadPush(TensorFrameHeader header)
    {
        int nodeBytes = header.PayloadLength / header.Nodes.Length;
        var nodes = new NodeSlice[header.Nodes.Length];
        for (int n = 0; n < nodes.Length; n++)
        {
            var node = header.Nodes[n];
            var buffer = _buffers.Take(header.RunId, header.ShardIndex, node, header.Step, nodeBytes);
            SocketStreams.ReceiveExactly(socket, buffer);
            nodes[n] = new NodeSlice(node.Start, node.End, buffer);
        }

        counters.AddReceived(header.PayloadLength);
        return new ShardContribution(header.Step, "tensor channel peer " + _peer, nodes, header.LossesFinite);
    }

    // An ack, the served slice (written as is: the protocol keeps the shard's served buffer unchanged until every
    // reducer has read this version, see ShardGrain) or the call's failure. A reply that cannot be written
    // means the connection is gone: the reader notices and ends, and the requester sees its connection fail.
    private void Reply(TensorFrameHeader request, Task<byte[]> call)
    {
        TensorFrameHeader reply;
        byte[] payload;
        if (call.IsCompletedSuccessfully)
        {
            bool push = request.Kind == TensorFrameKind.PushRequest;
            payload = call.Result;
            reply = TensorFrameHeader.Reply(
                push ? TensorFrameKind.PushAck : TensorFrameKind.FetchReply, request.RequestId, payload.Length);
        }
        else
        {
            var exception = call.Exception?.InnerException ?? new TaskCanceledException();
            payload = Encoding.UTF8.GetBytes($"{exception.GetType().Name}: {exception.Message}");
            payload = payload.Length > TensorFrameHeader.MaxErrorBytes
                ? payload[..TensorFrameHeader.MaxErrorBytes]
                : payload;
            reply = TensorFrameHeader.Reply(TensorFrameKind.Error, request.RequestId, payload.Length);
        }

        try
        {
            lock (_sendGate)
            {
                reply.Write(_replyHeader);
                SocketStreams.SendAll(socket, _replyHeader);
                SocketStreams.SendAll(socket, payload);
            }

            if (reply.Kind == TensorFrameKind.FetchReply)
            {
                counters.AddSent(payload.Length);
            }
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            LogReplyFailed(logger, _peer, request.RequestId, exception.Message);
        }
    }

    [LoggerMessage(20, LogLevel.Warning,
        "Tensor channel: closed the connection from {Peer}: bad frame field {Field}: {Reason}")]
    private static partial void LogBadFrame(ILogger logger, string peer, string field, string reason);

    [LoggerMessage(21, LogLevel.Debug, "Tensor channel: connection from {Peer} ended: {Reason}")]
    private static partial void LogClosed(ILogger logger, string peer, string reason);

    [LoggerMessage(26, LogLevel.Warning, "Tensor channel: the connection from {Peer} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string peer, string reason);

    [LoggerMessage(22, LogLevel.Warning,
        "Tensor channel: could not reply to request {RequestId} from {Peer}: {Reason}")]
    private static partial void LogReplyFailed(ILogger logger, string peer, ulong requestId, string reason);
}
