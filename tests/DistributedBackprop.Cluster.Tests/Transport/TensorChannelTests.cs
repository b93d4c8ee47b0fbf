using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Cluster.Serialization;
using DistributedBackprop.Cluster.Tests.Infrastructure;
using DistributedBackprop.Cluster.Transport;
using DistributedBackprop.Core.Reduction;
using Microsoft.Extensions.Logging;

namespace DistributedBackprop.Cluster.Tests.Transport;

/// <summary>Two channels on 127.0.0.1 with real sockets; the listening one bridges to a recording stand-in for
/// the shard grains.</summary>
public sealed class TensorChannelTests : IAsyncDisposable
{
    private readonly RecordingBridge _bridge = new();
    private readonly RecordingLogger<TensorChannel> _serverLog = new();
    private readonly TensorChannel _server;
    private readonly TensorChannel _client;

    public TensorChannelTests()
    {
        // Starting only binds and listens; it completes synchronously.
        _server = new TensorChannel(Options(), _bridge, _serverLog);
        _client = new TensorChannel(Options(), new RecordingBridge(), new RecordingLogger<TensorChannel>());
        _server.StartAsync(IPAddress.Loopback).GetAwaiter().GetResult();
        _client.StartAsync(IPAddress.Loopback).GetAwaiter().GetResult();
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task PushAsync_TwoNodes_ShardGetsSameBytesNodesAndLossFlag(bool lossesFinite)
    {
        var push = new ShardContribution(
            5, "silo-a", [Node(0, 2, 1000, 1f), Node(2, 3, 1000, -3f)], lossesFinite);

        long before = Stopwatch.GetTimestamp();
        long acknowledged = await _client.PushAsync(_server.Endpoint!, "run-1", 1, 3, push);

        var (key, received) = Assert.Single(_bridge.Pushes);
        Assert.Equal(("run-1", 1, 3), key);
        Assert.Equal(5, received.GlobalStep);
        Assert.Equal(lossesFinite, received.LossesFinite);
        Assert.InRange(acknowledged, before, Stopwatch.GetTimestamp());
        Assert.Equal(push.Nodes.Select(n => (n.Start, n.End)), received.Nodes.Select(n => (n.Start, n.End)));
        for (int n = 0; n < push.Nodes.Length; n++)
        {
            Assert.Equal(push.Nodes[n].Values, received.Nodes[n].Values);
        }

        Assert.Equal(2 * 1000 * sizeof(float), _client.Counters.BytesSent);
        Assert.Equal(2 * 1000 * sizeof(float), _server.Counters.BytesReceived);
    }

    // A reducer pushes views of its node sums: the shard must get exactly each view's range, nothing around it.
    [Fact]
    public async Task PushAsync_ViewsOfLargerArrays_ShardGetsExactlyTheViewedRanges()
    {
        var left = Enumerable.Range(0, 5000).Select(i => i * 0.25f).ToArray();
        var right = Enumerable.Range(0, 5000).Select(i => -i - 0.5f).ToArray();
        var push = new TensorPush(
            9,
            true,
            [new TreeNode(0, 4), new TreeNode(4, 8)],
            [FloatMemory.Bytes(left, 1200, 2500), FloatMemory.Bytes(right, 1200, 2500)]);

        await _client.PushAsync(_server.Endpoint!, "run-3", 1, 2, push);

        var (key, received) = Assert.Single(_bridge.Pushes);
        Assert.Equal(("run-3", 1, 2), key);
        Assert.Equal(9, received.GlobalStep);
        Assert.True(received.LossesFinite);
        Assert.Equal([(0, 4), (4, 8)], received.Nodes.Select(n => (n.Start, n.End)));
        Assert.Equal(left.AsSpan(1200, 2500).ToArray(), FloatBytes.AsFloats(received.Nodes[0].Values).ToArray());
        Assert.Equal(right.AsSpan(1200, 2500).ToArray(), FloatBytes.AsFloats(received.Nodes[1].Values).ToArray());
        Assert.Equal(2 * 2500 * sizeof(float), _server.Counters.BytesReceived);
    }

    [Fact]
    public async Task PushAsync_LaterStep_ReusesArrayEarlierStepGotFreshOne()
    {
        await _client.PushAsync(_server.Endpoint!, "run-1", 0, 1, new ShardContribution(0, "a", [Node(0, 1, 8, 1f)]));
        await _client.PushAsync(_server.Endpoint!, "run-1", 0, 1, new ShardContribution(1, "a", [Node(0, 1, 8, 2f)]));
        await _client.PushAsync(_server.Endpoint!, "run-1", 0, 1, new ShardContribution(1, "a", [Node(0, 1, 8, 3f)]));

        var arrays = _bridge.Pushes.Select(p => p.Push.Nodes[0].Values).ToArray();
        Assert.Same(arrays[0], arrays[1]);
        Assert.NotSame(arrays[1], arrays[2]);
        Assert.Equal(2f, FloatBytes.AsFloats(arrays[1])[0]);
        Assert.Equal(3f, FloatBytes.AsFloats(arrays[2])[0]);
    }

    [Fact]
    public async Task FetchAsync_Slice_LandsInDestinationRange()
    {
        var slice = Enumerable.Range(0, 3000).Select(i => i * 0.5f).ToArray();
        _bridge.Slice = FloatBytes.From(slice);
        var parameters = new float[5000];

        await _client.FetchAsync(
            _server.Endpoint!, "run-2", 2, 3, 17, FloatMemory.Bytes(parameters, 1000, slice.Length));

        Assert.Equal(("run-2", 2, 3, 17L), Assert.Single(_bridge.Fetches));
        Assert.Equal(slice, parameters.AsSpan(1000, slice.Length).ToArray());
        Assert.All(parameters.AsSpan(0, 1000).ToArray(), v => Assert.Equal(0f, v));
        Assert.All(parameters.AsSpan(4000).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public async Task FetchAsync_SliceLengthDiffers_ThrowsNamingPayloadLength()
    {
        _bridge.Slice = new byte[400];

        var error = await Assert.ThrowsAsync<TensorTransferException>(() =>
            _client.FetchAsync(_server.Endpoint!, "run-2", 0, 1, 0, new byte[800]));

        Assert.Contains("PayloadLength", error.Message, StringComparison.Ordinal);
        await _client.PushAsync(_server.Endpoint!, "run-2", 0, 1, new ShardContribution(0, "a", [Node(0, 1, 4, 1f)]));
    }

    [Fact]
    public async Task PushAsync_ShardThrows_FailsWithShardsMessageAndConnectionStaysUsable()
    {
        _bridge.PushFailure = new InvalidOperationException("shard 1 holds step 9");

        var error = await Assert.ThrowsAsync<TensorTransferException>(() => _client.PushAsync(
            _server.Endpoint!, "run-3", 1, 2, new ShardContribution(4, "a", [Node(0, 1, 16, 1f)])));
        _bridge.PushFailure = null;
        await _client.PushAsync(
            _server.Endpoint!, "run-3", 1, 2, new ShardContribution(5, "a", [Node(0, 1, 16, 1f)]));

        Assert.Contains("InvalidOperationException: shard 1 holds step 9", error.Message, StringComparison.Ordinal);
        Assert.Contains(_server.Endpoint!, error.Message, StringComparison.Ordinal);
        Assert.Single(_bridge.Pushes);
    }

    [Fact]
    public async Task PushAsync_DeadEndpoint_ThrowsNamingEndpoint()
    {
        string dead = DeadEndpoint();

        var error = await Assert.ThrowsAsync<TensorTransferException>(() =>
            _client.PushAsync(dead, "run-4", 0, 1, new ShardContribution(0, "a", [Node(0, 1, 4, 1f)])));

        Assert.Contains($"cannot connect to {dead}", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Magic", 0, 0xDEADBEEF)]
    [InlineData("Version", 4, 9)]
    [InlineData("Kind", 5, 3)]
    [InlineData("Kind", 5, 77)]
    [InlineData("RunIdLength", 6, 0)]
    [InlineData("RunIdLength", 6, 65)]
    [InlineData("Step", 16, -1)]
    [InlineData("ShardIndex", 24, 3)]
    [InlineData("ShardCount", 28, 0)]
    [InlineData("ShardCount", 28, 100_000)]
    [InlineData("NodeCount", 32, 0)]
    [InlineData("NodeCount", 32, 65)]
    [InlineData("PayloadLength", 36, 6)]
    [InlineData("PayloadLength", 36, -8)]
    [InlineData("PayloadLength", 36, int.MaxValue - 3)]
    [InlineData("RunId", 40, 0x2F)]
    [InlineData("Nodes", 49, 2)]
    public async Task Listener_BadHeaderField_ClosesThatConnectionLogsFieldAndKeepsServing(
        string field,
        int offset,
        long value)
    {
        // A valid push of one 4-float node for run "run-5", shard 1 of 3, then one field overwritten.
        var frame = new byte[TensorFrameHeader.FixedBytes + 5 + 8 + 16];
        new TensorFrameHeader(TensorFrameKind.PushRequest, 1, "run-5", 1, 3, 2, [new TreeNode(4, 8)], 16)
            .Write(frame);
        Overwrite(frame, field, offset, value);

        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await raw.ConnectAsync(IPEndPoint.Parse(_server.Endpoint!));
        await raw.SendAsync(frame);
        int read = await ReadUntilClosedAsync(raw);
        await _client.PushAsync(_server.Endpoint!, "run-5", 0, 1, new ShardContribution(0, "a", [Node(0, 1, 4, 1f)]));

        Assert.Equal(0, read);
        Assert.Contains(_serverLog.Entries, e => e.Level == LogLevel.Warning
            && e.Message.Contains($"bad frame field {field}:", StringComparison.Ordinal));
        Assert.Single(_bridge.Pushes);
    }

    private static void Overwrite(byte[] frame, string field, int offset, long value)
    {
        switch (field)
        {
            case "Version" or "Kind" or "RunId":
                frame[offset] = (byte)value;
                break;
            case "RunIdLength":
                BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(offset), (ushort)value);
                break;
            case "Step":
                BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(offset), value);
                break;
            case "Magic":
                BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(offset), (uint)value);
                break;
            default:
                // The int fields, and Nodes: the node's end (after the 5-byte run id and its start of 4).
                BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(offset), (int)value);
                break;
        }
    }

    // Bytes the peer sent before closing (none expected); a reset counts as closed.
    private static async Task<int> ReadUntilClosedAsync(Socket socket)
    {
        var buffer = new byte[64];
        int total = 0;
        try
        {
            int read;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                total += read;
            }
        }
        catch (SocketException)
        {
        }

        return total;
    }

    private static TrainingSiloOptions Options() => new()
    {
        TensorPort = 0,
        TensorMaxPayloadBytes = 1 << 20,
        TensorTimeout = TimeSpan.FromSeconds(30),
    };

    private static NodeSlice Node(int start, int end, int floats, float first) =>
        new(start, end, FloatBytes.From(Enumerable.Range(0, floats).Select(i => first + i).ToArray()));

    // A port that was just free and has no listener: connecting is refused.
    private static string DeadEndpoint()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return probe.LocalEndpoint.ToString()!;
    }

    private sealed class RecordingBridge : IShardBridge
    {
        public ConcurrentQueue<((string, int, int) Key, ShardContribution Push)> Pushes { get; } = new();

        public ConcurrentQueue<(string, int, int, long)> Fetches { get; } = new();

        public byte[] Slice { get; set; } = [];

        public Exception? PushFailure { get; set; }

        public Task PushAsync(string runId, int shardIndex, int shardCount, ShardContribution contribution)
        {
            if (PushFailure is { } failure)
            {
                return Task.FromException(failure);
            }

            Pushes.Enqueue(((runId, shardIndex, shardCount), contribution));
            return Task.CompletedTask;
        }

        public Task<byte[]> GetParametersAsync(string runId, int shardIndex, int shardCount, long version)
        {
            Fetches.Enqueue((runId, shardIndex, shardCount, version));
            return Task.FromResult(Slice);
        }
    }
}

/// <summary>Pushes of a whole contribution, as the tests write them: its slices are arrays already.</summary>
internal static class TensorChannelPushes
{
    public static Task<long> PushAsync(
        this TensorChannel channel,
        string endpoint,
        string runId,
        int shardIndex,
        int shardCount,
        ShardContribution contribution) =>
        channel.PushAsync(
            endpoint,
            runId,
            shardIndex,
            shardCount,
            new TensorPush(
                contribution.GlobalStep,
                contribution.LossesFinite,
                contribution.Nodes.Select(n => new TreeNode(n.Start, n.End)).ToArray(),
                contribution.Nodes.Select(n => (ReadOnlyMemory<byte>)n.Values).ToArray()));
}
