using System.Buffers.Binary;
using System.Text;
using DistributedBackprop.Cluster.Placement;
using DistributedBackprop.Core.Reduction;

namespace DistributedBackprop.Cluster.Transport;

/// <summary>
/// The header of a tensor channel frame. On the wire (little endian): a fixed part of
/// <see cref="FixedBytes"/> bytes
/// <code>
///  0 magic u32 "DBPT"   4 version u8   5 kind u8   6 run id length u8   7 flags u8   8 request id u64
/// 16 step i64   24 shard index i32   28 shard count i32   32 node count i32   36 payload length i32
/// </code>
/// then the run id (ASCII), then per node its micro-batch range (start i32, end i32), then the payload: for a
/// push, one equal-sized float32 slice per node in node order. Replies carry no run id and no nodes. Flags: bit
/// 0 on a push is <see cref="LossesFinite"/>; every other bit is 0.
/// </summary>
/// <param name="Step">Push: the global step; fetch: the parameter version.</param>
/// <param name="LossesFinite">Push: every loss behind it was finite, so the shard may apply on its own (see
/// <c>ShardContribution</c>).</param>
internal readonly record struct TensorFrameHeader(
    TensorFrameKind Kind,
    ulong RequestId,
    string RunId,
    int ShardIndex,
    int ShardCount,
    long Step,
    TreeNode[] Nodes,
    int PayloadLength,
    bool LossesFinite = false)
{
    public const int FixedBytes = 40;
    public const uint Magic = 0x54504244;
    public const byte Version = 2;
    public const int MaxRunIdBytes = 64;
    public const int MaxShards = 4096;

    // log2(micro-batches) + 1 nodes at most reach a shard from one silo; this leaves room for any sane M.
    public const int MaxNodes = 64;
    public const int MaxErrorBytes = 64 * 1024;

    private const byte LossesFiniteFlag = 1;

    public int VariableBytes => Encoding.ASCII.GetByteCount(RunId) + Nodes.Length * 8;

    public static TensorFrameHeader Reply(TensorFrameKind kind, ulong requestId, int payloadLength) =>
        new(kind, requestId, "", 0, 0, 0, [], payloadLength);

    /// <summary>Writes the fixed and variable parts; returns the bytes written.</summary>
    public int Write(Span<byte> destination)
    {
        int runIdBytes = Encoding.ASCII.GetByteCount(RunId);
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        destination[4] = Version;
        destination[5] = (byte)Kind;
        destination[6] = (byte)runIdBytes;
        destination[7] = LossesFinite ? LossesFiniteFlag : (byte)0;
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], RequestId);
        BinaryPrimitives.WriteInt64LittleEndian(destination[16..], Step);
        BinaryPrimitives.WriteInt32LittleEndian(destination[24..], ShardIndex);
        BinaryPrimitives.WriteInt32LittleEndian(destination[28..], ShardCount);
        BinaryPrimitives.WriteInt32LittleEndian(destination[32..], Nodes.Length);
        BinaryPrimitives.WriteInt32LittleEndian(destination[36..], PayloadLength);

        int offset = FixedBytes + Encoding.ASCII.GetBytes(RunId, destination[FixedBytes..]);
        foreach (var node in Nodes)
        {
            BinaryPrimitives.WriteInt32LittleEndian(destination[offset..], node.Start);
            BinaryPrimitives.WriteInt32LittleEndian(destination[(offset + 4)..], node.End);
            offset += 8;
        }

        return offset;
    }

    /// <summary>Reads and checks the fixed part: every field against the limits and the frame's kind. The
    /// result has no run id and no nodes yet; their lengths are in <paramref name="runIdBytes"/> and
    /// <see cref="Nodes"/>' count is <paramref name="nodeCount"/>.</summary>
    /// <param name="requests">True on the listening side (only requests may arrive), false on the sending
    /// side (only replies may).</param>
    /// <exception cref="TensorFrameException">A field is out of range; names it.</exception>
    public static TensorFrameHeader ReadFixed(
        ReadOnlySpan<byte> source,
        bool requests,
        int maxPayloadBytes,
        out int runIdBytes,
        out int nodeCount)
    {
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(source);
        Check(magic == Magic, "Magic", $"is 0x{magic:X8}; a tensor channel frame starts with 0x{Magic:X8}");
        Check(source[4] == Version, "Version", $"is {source[4]}; this silo speaks version {Version}");
        var kind = (TensorFrameKind)source[5];
        bool isRequest = kind is TensorFrameKind.PushRequest or TensorFrameKind.FetchRequest;
        bool isReply = kind is TensorFrameKind.PushAck or TensorFrameKind.FetchReply or TensorFrameKind.Error;
        string expected = requests ? "request (1 push, 2 fetch)" : "reply (3 ack, 4 slice, 5 error)";
        Check(requests ? isRequest : isReply, "Kind", $"is {source[5]}; expected a {expected}");

        runIdBytes = source[6];
        byte flags = source[7];
        Check((flags & ~(kind == TensorFrameKind.PushRequest ? LossesFiniteFlag : 0)) == 0, "Flags",
            $"is 0x{flags:X2}; only a push sets bit 0 (losses finite)");
        ulong requestId = BinaryPrimitives.ReadUInt64LittleEndian(source[8..]);
        long step = BinaryPrimitives.ReadInt64LittleEndian(source[16..]);
        int shardIndex = BinaryPrimitives.ReadInt32LittleEndian(source[24..]);
        int shardCount = BinaryPrimitives.ReadInt32LittleEndian(source[28..]);
        nodeCount = BinaryPrimitives.ReadInt32LittleEndian(source[32..]);
        int payload = BinaryPrimitives.ReadInt32LittleEndian(source[36..]);

        if (isRequest)
        {
            Check(runIdBytes is >= 1 and <= MaxRunIdBytes, "RunIdLength", $"is {runIdBytes}; use 1-{MaxRunIdBytes}");
            Check(step >= 0, "Step", $"is {step}; steps and versions are 0 or more");
            Check(shardCount is >= 1 and <= MaxShards, "ShardCount", $"is {shardCount}; use 1-{MaxShards}");
            Check(shardIndex >= 0 && shardIndex < shardCount, "ShardIndex",
                $"is {shardIndex}; use 0-{shardCount - 1} for {shardCount} shards");
        }
        else
        {
            Check(runIdBytes == 0, "RunIdLength", $"is {runIdBytes}; replies carry no run id");
        }

        if (kind == TensorFrameKind.PushRequest)
        {
            Check(nodeCount is >= 1 and <= MaxNodes, "NodeCount", $"is {nodeCount}; a push carries 1-{MaxNodes}");
            Check(payload > 0 && payload <= maxPayloadBytes && payload % (nodeCount * sizeof(float)) == 0,
                "PayloadLength",
                $"is {payload}; a push of {nodeCount} node(s) carries 1-{maxPayloadBytes} bytes, equal float32 "
                + "slices per node");
        }
        else
        {
            Check(nodeCount == 0, "NodeCount", $"is {nodeCount}; only a push carries nodes");
            int max = kind switch
            {
                TensorFrameKind.FetchReply => maxPayloadBytes,
                TensorFrameKind.Error => MaxErrorBytes,
                _ => 0,
            };
            Check(payload >= 0 && payload <= max && payload % (kind == TensorFrameKind.FetchReply ? 4 : 1) == 0,
                "PayloadLength", $"is {payload}; a {kind} frame carries 0-{max} bytes");
        }

        return new TensorFrameHeader(
            kind, requestId, "", shardIndex, shardCount, step, [], payload, (flags & LossesFiniteFlag) != 0);
    }

    /// <summary>Reads and checks the run id and the nodes that follow the fixed part.</summary>
    /// <exception cref="TensorFrameException">The run id or a node range is invalid; names it.</exception>
    public TensorFrameHeader WithVariable(ReadOnlySpan<byte> source, int runIdBytes, int nodeCount)
    {
        string runId = "";
        if (runIdBytes > 0)
        {
            // Latin-1 keeps every byte a character, so a non-ASCII byte fails the run id check below.
            runId = Encoding.Latin1.GetString(source[..runIdBytes]);
            Check(RunGrainKey.IsValidRunId(runId), "RunId",
                "is not a run id: use 1-64 ASCII letters, digits, '.', '_' or '-'");
        }

        var nodes = nodeCount == 0 ? [] : new TreeNode[nodeCount];
        for (int n = 0; n < nodeCount; n++)
        {
            int offset = runIdBytes + n * 8;
            int start = BinaryPrimitives.ReadInt32LittleEndian(source[offset..]);
            int end = BinaryPrimitives.ReadInt32LittleEndian(source[(offset + 4)..]);
            Check(start >= 0 && end > start, "Nodes", $"[{n}] is [{start}, {end}); a node is a non-empty range");
            nodes[n] = new TreeNode(start, end);
        }

        return this with { RunId = runId, Nodes = nodes };
    }

    private static void Check(bool condition, string field, string problem)
    {
        if (!condition)
        {
            throw new TensorFrameException(field, $"Tensor channel frame field {field} {problem}.");
        }
    }
}
