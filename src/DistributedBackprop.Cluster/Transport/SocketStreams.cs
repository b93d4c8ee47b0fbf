using System.Net.Sockets;

namespace DistributedBackprop.Cluster.Transport;

/// <summary>
/// Whole-buffer blocking reads and writes on a connected stream socket, and the channel's socket settings. The
/// channel uses blocking calls on threads of its own on purpose: a thread blocked in a receive is woken by the
/// kernel itself when bytes arrive, where an async receive needs the socket engine's thread and then a
/// thread-pool thread, and the pool is exactly what a silo's workers keep busy with long compute turns.
/// </summary>
internal static class SocketStreams
{
    // Large enough for a typical shard slice to sit in the kernel while the peer's reader catches up.
    private const int BufferBytes = 4 * 1024 * 1024;

    // Linux caps an explicit buffer size at these limits (212992 bytes on many distributions) and turns the
    // kernel's own buffer sizing off for that socket, which would otherwise grow to tcp_wmem's and tcp_rmem's
    // maximum (4 MB and 6 MB by default). So the sizes are set only where the limits allow them.
    private static readonly bool SendBufferFits = KernelLimitAllows("/proc/sys/net/core/wmem_max");
    private static readonly bool ReceiveBufferFits = KernelLimitAllows("/proc/sys/net/core/rmem_max");

    /// <summary>Nagle off (a frame's last segment must not wait for an ack), large kernel buffers where the
    /// kernel allows them, and a send timeout so a peer that stops reading cannot hold a sender forever.</summary>
    public static void Tune(Socket socket, TimeSpan sendTimeout)
    {
        socket.NoDelay = true;
        if (SendBufferFits)
        {
            socket.SendBufferSize = BufferBytes;
        }

        if (ReceiveBufferFits)
        {
            socket.ReceiveBufferSize = BufferBytes;
        }

        socket.SendTimeout = (int)Math.Min(int.MaxValue, sendTimeout.TotalMilliseconds);
    }

    /// <summary>Whether a limit file (e.g. /proc/sys/net/core/wmem_max) allows <see cref="BufferBytes"/>;
    /// true where there is no such file (not Linux), false where it cannot be read.</summary>
    internal static bool KernelLimitAllows(string limitFile)
    {
        if (!OperatingSystem.IsLinux())
        {
            return true;
        }

        try
        {
            return long.TryParse(File.ReadAllText(limitFile).Trim(), out long limit) && limit >= BufferBytes;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <exception cref="EndOfStreamException">The peer closed the connection first.</exception>
    public static void ReceiveExactly(Socket socket, Span<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            int read = socket.Receive(buffer);
            if (read == 0)
            {
                throw new EndOfStreamException("The peer closed the connection.");
            }

            buffer = buffer[read..];
        }
    }

    public static void SendAll(Socket socket, ReadOnlySpan<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            buffer = buffer[socket.Send(buffer)..];
        }
    }

    /// <summary>Reads and drops <paramref name="count"/> bytes, e.g. the payload of a reply nobody waits for.</summary>
    public static void Skip(Socket socket, int count, byte[] scratch)
    {
        while (count > 0)
        {
            int chunk = Math.Min(count, scratch.Length);
            ReceiveExactly(socket, scratch.AsSpan(0, chunk));
            count -= chunk;
        }
    }

    /// <summary>Starts <paramref name="loop"/> on a background thread of its own, which asks for a short
    /// scheduler slice (<see cref="ShortSlice"/>) so that it is not kept waiting behind compute.</summary>
    public static void StartThread(string name, Action loop) =>
        new Thread(() =>
        {
            ShortSlice.ApplyToCurrentThread();
            loop();
        }) { IsBackground = true, Name = name }.Start();
}
