using DistributedBackprop.Cluster.Transport;
using DistributedBackprop.Core.Reduction;

namespace DistributedBackprop.Cluster.Tests.Transport;

public sealed class TensorFrameHeaderTests
{
    private const int MaxPayload = 1 << 20;

    [Fact]
    public void Write_PushHeader_ReadsBackEveryField()
    {
        var header = new TensorFrameHeader(
            TensorFrameKind.PushRequest, 0x0102030405060708, "run-7.a_b", 2, 3, 41,
            [new TreeNode(0, 4), new TreeNode(4, 6)], 2 * 12 * sizeof(float), LossesFinite: true);
        var bytes = new byte[256];

        int written = header.Write(bytes);
        var read = TensorFrameHeader.ReadFixed(bytes, requests: true, MaxPayload, out int runIdBytes, out int nodes)
            .WithVariable(bytes.AsSpan(TensorFrameHeader.FixedBytes), runIdBytes, nodes);

        Assert.Equal(TensorFrameHeader.FixedBytes + 9 + 2 * 8, written);
        Assert.Equal(header.Kind, read.Kind);
        Assert.Equal(header.RequestId, read.RequestId);
        Assert.Equal(header.RunId, read.RunId);
        Assert.Equal(header.ShardIndex, read.ShardIndex);
        Assert.Equal(header.ShardCount, read.ShardCount);
        Assert.Equal(header.Step, read.Step);
        Assert.Equal(header.Nodes, read.Nodes);
        Assert.Equal(header.PayloadLength, read.PayloadLength);
        Assert.True(read.LossesFinite);
    }

    [Fact]
    public void Write_PushWithNonFiniteLosses_ReadsBackFlagClear()
    {
        var header = new TensorFrameHeader(
            TensorFrameKind.PushRequest, 1, "run", 0, 1, 0, [new TreeNode(0, 1)], 4, LossesFinite: false);
        var bytes = new byte[128];
        header.Write(bytes);

        var read = TensorFrameHeader.ReadFixed(bytes, requests: true, MaxPayload, out _, out _);

        Assert.False(read.LossesFinite);
        Assert.Equal(0, bytes[7]);
    }

    [Fact]
    public void ReadFixed_FetchWithFlagSet_ThrowsNamingFlags()
    {
        var bytes = new byte[128];
        new TensorFrameHeader(TensorFrameKind.FetchRequest, 1, "run", 0, 1, 3, [], 0).Write(bytes);
        bytes[7] = 1;

        var error = Assert.Throws<TensorFrameException>(() =>
            TensorFrameHeader.ReadFixed(bytes, requests: true, MaxPayload, out _, out _));

        Assert.Equal("Flags", error.Field);
    }

    [Fact]
    public void ReadFixed_ReplyOnListeningSide_ThrowsNamingKind()
    {
        var bytes = new byte[TensorFrameHeader.FixedBytes];
        TensorFrameHeader.Reply(TensorFrameKind.PushAck, 1, 0).Write(bytes);

        var error = Assert.Throws<TensorFrameException>(() =>
            TensorFrameHeader.ReadFixed(bytes, requests: true, MaxPayload, out _, out _));

        Assert.Equal("Kind", error.Field);
    }

    [Fact]
    public void ReadFixed_FetchReplyPayloadAboveLimit_ThrowsNamingPayloadLength()
    {
        var bytes = new byte[TensorFrameHeader.FixedBytes];
        TensorFrameHeader.Reply(TensorFrameKind.FetchReply, 1, MaxPayload + 4).Write(bytes);

        var error = Assert.Throws<TensorFrameException>(() =>
            TensorFrameHeader.ReadFixed(bytes, requests: false, MaxPayload, out _, out _));

        Assert.Equal("PayloadLength", error.Field);
    }
}
