using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace DistributedBackprop.Benchmarks.Clusters;

/// <summary>
/// The raw loopback TCP transfer rate the cluster's transfers are compared against: a socket pair in this
/// process sends a payload and waits for a one-byte acknowledgement, as a grain call waits for its response.
/// Buffers are reused, so this is the best the loopback path gives one connection.
/// </summary>
internal static class LoopbackTcp
{
    /// <summary>Payload bytes per second for messages of <paramref name="payloadBytes"/> (median sample).</summary>
    public static double BytesPerSecond(int payloadBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(payloadBytes, 1);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        sender.NoDelay = true;
        sender.Connect((IPEndPoint)listener.LocalEndpoint);
        using var receiver = listener.AcceptSocket();
        receiver.NoDelay = true;
        var echo = new Thread(() => Receive(receiver, payloadBytes)) { IsBackground = true };
        echo.Start();

        var message = new byte[4 + payloadBytes];
        BinaryPrimitives.WriteInt32LittleEndian(message, payloadBytes);
        var ack = new byte[1];
        double seconds = Timing.MedianSeconds(() =>
        {
            sender.Send(message);
            ReceiveExactly(sender, ack);
        });

        // A zero length tells the receiver to stop.
        sender.Send(new byte[4]);
        echo.Join();
        return payloadBytes / seconds;
    }

    private static void Receive(Socket socket, int payloadBytes)
    {
        var length = new byte[4];
        var payload = new byte[payloadBytes];
        var ack = new byte[] { 1 };
        while (true)
        {
            ReceiveExactly(socket, length);
            int size = BinaryPrimitives.ReadInt32LittleEndian(length);
            if (size == 0)
            {
                return;
            }

            ReceiveExactly(socket, payload.AsSpan(0, size));
            socket.Send(ack);
        }
    }

    private static void ReceiveExactly(Socket socket, Span<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            int read = socket.Receive(buffer);
            if (read == 0)
            {
                throw new IOException("The loopback peer closed the connection early.");
            }

            buffer = buffer[read..];
        }
    }
}
