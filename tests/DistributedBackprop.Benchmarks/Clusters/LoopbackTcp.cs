using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace DistributedBackprop.Benchmarks.Clusters;

/// <summary>
/// The raw loopback TCP transfer rate the cluster's transfers are compared against: a socket pair in this
/// process sends a payload and waits for a one-byte acknowledgement, as a grain call waits for its response.
/// Buffers are reused, so this is the best the loopback path gives one connection: measured on idle cores, or
/// sampled while a cluster run keeps the cores as busy as its own transfers find them.
/// </summary>
internal static class LoopbackTcp
{
    // Between samples taken during a load, so the sampler takes little of the CPU the load is using.
    private static readonly TimeSpan SamplePause = TimeSpan.FromMilliseconds(3);

    /// <summary>Payload bytes per second for messages of <paramref name="payloadBytes"/> (median sample).</summary>
    public static double BytesPerSecond(int payloadBytes)
    {
        using var pair = new SocketPair(payloadBytes);
        return payloadBytes / Timing.MedianSeconds(pair.Transfer);
    }

    /// <summary>Payload bytes per second (median of single transfers, one every few milliseconds) while
    /// <paramref name="load"/> runs.</summary>
    public static async Task<double> BytesPerSecondDuringAsync(int payloadBytes, Func<Task> load)
    {
        ArgumentNullException.ThrowIfNull(load);
        using var pair = new SocketPair(payloadBytes);
        var samples = new List<double>();
        bool stop = false;
        var sampler = new Thread(() =>
        {
            var clock = new Stopwatch();
            while (!Volatile.Read(ref stop))
            {
                clock.Restart();
                pair.Transfer();
                samples.Add(clock.Elapsed.TotalSeconds);
                Thread.Sleep(SamplePause);
            }
        }) { IsBackground = true, Name = "raw TCP sampler" };
        sampler.Start();
        try
        {
            await load();
        }
        finally
        {
            Volatile.Write(ref stop, true);
            sampler.Join();
        }

        if (samples.Count == 0)
        {
            throw new InvalidOperationException("The load ended before one raw TCP transfer was sampled.");
        }

        samples.Sort();
        return payloadBytes / samples[samples.Count / 2];
    }

    // A connected pair on 127.0.0.1 with an echo thread that acknowledges each message with one byte.
    private sealed class SocketPair : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly Socket _sender = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly Socket _receiver;
        private readonly Thread _echo;
        private readonly byte[] _message;
        private readonly byte[] _ack = new byte[1];

        public SocketPair(int payloadBytes)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(payloadBytes, 1);
            _listener.Start();
            _sender.NoDelay = true;
            _sender.Connect((IPEndPoint)_listener.LocalEndpoint);
            _receiver = _listener.AcceptSocket();
            _receiver.NoDelay = true;
            _echo = new Thread(() => Receive(_receiver, payloadBytes)) { IsBackground = true };
            _echo.Start();
            _message = new byte[4 + payloadBytes];
            BinaryPrimitives.WriteInt32LittleEndian(_message, payloadBytes);
        }

        public void Transfer()
        {
            _sender.Send(_message);
            ReceiveExactly(_sender, _ack);
        }

        public void Dispose()
        {
            // A zero length tells the receiver to stop.
            _sender.Send(new byte[4]);
            _echo.Join();
            _receiver.Dispose();
            _sender.Dispose();
            _listener.Stop();
        }
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
