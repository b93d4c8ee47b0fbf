using System.Net.Sockets;

namespace DistributedBackprop.Cluster.Transport;

/// <summary>Whole-buffer reads and writes on a connected stream socket, and the channel's socket settings.</summary>
internal static class SocketStreams
{
    // Large enough for a typical shard slice to sit in the kernel while the peer's reader catches up.
    private const int BufferBytes = 4 * 1024 * 1024;

    /// <summary>Nagle off (a frame's last segment must not wait for an ack) and large kernel buffers.</summary>
    public static void Tune(Socket socket)
    {
        socket.NoDelay = true;
        socket.SendBufferSize = BufferBytes;
        socket.ReceiveBufferSize = BufferBytes;
    }

    /// <exception cref="EndOfStreamException">The peer closed the connection first.</exception>
    public static async ValueTask ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancel)
    {
        while (buffer.Length > 0)
        {
            int read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancel);
            if (read == 0)
            {
                throw new EndOfStreamException("The peer closed the connection.");
            }

            buffer = buffer[read..];
        }
    }

    public static async ValueTask SendAllAsync(Socket socket, ReadOnlyMemory<byte> buffer, CancellationToken cancel)
    {
        while (buffer.Length > 0)
        {
            int sent = await socket.SendAsync(buffer, SocketFlags.None, cancel);
            buffer = buffer[sent..];
        }
    }

    /// <summary>Reads and drops <paramref name="count"/> bytes, e.g. the payload of a reply nobody waits for.</summary>
    public static async ValueTask SkipAsync(Socket socket, int count, byte[] scratch, CancellationToken cancel)
    {
        while (count > 0)
        {
            int chunk = Math.Min(count, scratch.Length);
            await ReceiveExactlyAsync(socket, scratch.AsMemory(0, chunk), cancel);
            count -= chunk;
        }
    }
}
