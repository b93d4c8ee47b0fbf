using System.Net.Sockets;
using System.Text;
using DistributedBackprop.Cluster.Messages;
using Microsoft.Extensions.Logging;

namespace DistributedBackprop.Cluster.Transport;

/// <summary>
/// The listening side of one connection from another silo: reads request frames, turns each into the shard's
/// own grain call through the <see cref="IShardBridge"/>, and writes the reply on the same connection. Requests
/// are read one after another but handled concurrently (a push to one shard does not wait for a fetch from
/// another), so replies may leave in any order; the request id matches them. A frame that breaks the format
/// closes this connection only.
/// </summary>
internal sealed partial class TensorServerConnection(
    Socket socket,
    IShardBridge bridge,
    TensorChannelCounters counters,
    int maxPayloadBytes,
    ILogger logger) : IDisposable
{
    private readonly string _peer = socket.RemoteEndPoint?.ToString() ?? "unknown peer";
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly PushBufferCache _buffers = new();

    // Fixed part plus the largest variable part: a run id and MaxNodes node ranges.
    private readonly byte[] _header = new byte[
        TensorFrameHeader.FixedBytes + TensorFrameHeader.MaxRunIdBytes + TensorFrameHeader.MaxNodes * 8];
    private readonly byte[] _replyHeader = new byte[TensorFrameHeader.FixedBytes];

    /// <summary>Serves until the peer closes, a frame is bad or <paramref name="cancel"/> fires; never
    /// throws.</summary>
    public async Task RunAsync(CancellationToken cancel)
    {
        try
        {
            while (true)
            {
                var header = await ReadHeaderAsync(cancel);
                if (header.Kind == TensorFrameKind.PushRequest)
                {
                    var push = await ReadPushAsync(header, cancel);
                    _ = HandlePushAsync(header, push, cancel);
                }
                else
                {
                    _ = HandleFetchAsync(header, cancel);
                }
            }
        }
        catch (TensorFrameException bad)
        {
            LogBadFrame(logger, _peer, bad.Field, bad.Message);
        }
        catch (Exception exception) when (exception is EndOfStreamException or SocketException
            or OperationCanceledException or ObjectDisposedException or IOException)
        {
            LogClosed(logger, _peer, exception.Message);
        }
        finally
        {
            Dispose();
        }
    }

    // Replies still being handled find the socket closed and give up (see ReplyAsync).
    public void Dispose()
    {
        socket.Dispose();
        _writeLock.Dispose();
    }

    private async Task<TensorFrameHeader> ReadHeaderAsync(CancellationToken cancel)
    {
        await SocketStreams.ReceiveExactlyAsync(socket, _header.AsMemory(0, TensorFrameHeader.FixedBytes), cancel);
        var header = TensorFrameHeader.ReadFixed(
            _header, requests: true, maxPayloadBytes, out int runIdBytes, out int nodeCount);
        int variable = runIdBytes + nodeCount * 8;
        var rest = _header.AsMemory(TensorFrameHeader.FixedBytes, variable);
        await SocketStreams.ReceiveExactlyAsync(socket, rest, cancel);
        return header.WithVariable(rest.Span, runIdBytes, nodeCount);
    }

    // Each node's slice goes into its own array, which the shard will hold (see PushBufferCache).
    private async Task<ShardContribution> ReadPushAsync(TensorFrameHeader header, CancellationToken cancel)
    {
        int nodeBytes = header.PayloadLength / header.Nodes.Length;
        var nodes = new NodeSlice[header.Nodes.Length];
        for (int n = 0; n < nodes.Length; n++)
        {
            var node = header.Nodes[n];
            var buffer = _buffers.Take(header.RunId, header.ShardIndex, node, header.Step, nodeBytes);
            await SocketStreams.ReceiveExactlyAsync(socket, buffer, cancel);
            nodes[n] = new NodeSlice(node.Start, node.End, buffer);
        }

        counters.AddReceived(header.PayloadLength);
        return new ShardContribution(header.Step, "tensor channel peer " + _peer, nodes);
    }

    private async Task HandlePushAsync(TensorFrameHeader header, ShardContribution push, CancellationToken cancel)
    {
        try
        {
            await bridge.PushAsync(header.RunId, header.ShardIndex, header.ShardCount, push);
        }
        catch (Exception exception)
        {
            await ReplyErrorAsync(header, exception, cancel);
            return;
        }

        await ReplyAsync(TensorFrameHeader.Reply(TensorFrameKind.PushAck, header.RequestId, 0), default, cancel);
    }

    private async Task HandleFetchAsync(TensorFrameHeader header, CancellationToken cancel)
    {
        byte[] slice;
        try
        {
            slice = await bridge.GetParametersAsync(header.RunId, header.ShardIndex, header.ShardCount, header.Step);
        }
        catch (Exception exception)
        {
            await ReplyErrorAsync(header, exception, cancel);
            return;
        }

        // The shard's served buffer is written as is; the protocol keeps it unchanged until every reducer has
        // read this version (see ShardGrain).
        var reply = TensorFrameHeader.Reply(TensorFrameKind.FetchReply, header.RequestId, slice.Length);
        if (await ReplyAsync(reply, slice, cancel))
        {
            counters.AddSent(slice.Length);
        }
    }

    private Task<bool> ReplyErrorAsync(TensorFrameHeader header, Exception exception, CancellationToken cancel)
    {
        string text = $"{exception.GetType().Name}: {exception.Message}";
        var message = Encoding.UTF8.GetBytes(text);
        if (message.Length > TensorFrameHeader.MaxErrorBytes)
        {
            message = message[..TensorFrameHeader.MaxErrorBytes];
        }

        var reply = TensorFrameHeader.Reply(TensorFrameKind.Error, header.RequestId, message.Length);
        return ReplyAsync(reply, message, cancel);
    }

    // A reply that cannot be written means the connection is gone; the reader notices and ends. The requester
    // sees its connection fail.
    private async Task<bool> ReplyAsync(TensorFrameHeader reply, ReadOnlyMemory<byte> payload, CancellationToken cancel)
    {
        try
        {
            await _writeLock.WaitAsync(cancel);
            try
            {
                reply.Write(_replyHeader);
                await SocketStreams.SendAllAsync(socket, _replyHeader, cancel);
                await SocketStreams.SendAllAsync(socket, payload, cancel);
                return true;
            }
            finally
            {
                _writeLock.Release();
            }
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException
            or ObjectDisposedException or IOException)
        {
            LogReplyFailed(logger, _peer, reply.RequestId, exception.Message);
            return false;
        }
    }

    [LoggerMessage(20, LogLevel.Warning,
        "Tensor channel: closed the connection from {Peer}: bad frame field {Field}: {Reason}")]
    private static partial void LogBadFrame(ILogger logger, string peer, string field, string reason);

    [LoggerMessage(21, LogLevel.Debug, "Tensor channel: connection from {Peer} ended: {Reason}")]
    private static partial void LogClosed(ILogger logger, string peer, string reason);

    [LoggerMessage(22, LogLevel.Warning,
        "Tensor channel: could not reply to request {RequestId} from {Peer}: {Reason}")]
    private static partial void LogReplyFailed(ILogger logger, string peer, ulong requestId, string reason);
}
