using System.Buffers;
using System.Runtime.InteropServices;

namespace DistributedBackprop.Cluster.Serialization;

/// <summary>
/// A range of a <c>float[]</c> as <c>Memory&lt;byte&gt;</c>, so a socket can read float32 bytes straight into a
/// parameter vector (Memory, unlike Span, cannot be reinterpreted by a cast).
/// </summary>
public sealed class FloatMemory(float[] array, int start, int length) : MemoryManager<byte>
{
    /// <summary>The bytes of <paramref name="array"/>[start, start + length).</summary>
    public static Memory<byte> Bytes(float[] array, int start, int length)
    {
        ArgumentNullException.ThrowIfNull(array);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, array.Length - start);
        return new FloatMemory(array, start, length).Memory;
    }

    public override Span<byte> GetSpan() => MemoryMarshal.AsBytes(array.AsSpan(start, length));

    public override unsafe MemoryHandle Pin(int elementIndex = 0)
    {
        var handle = GCHandle.Alloc(array, GCHandleType.Pinned);
        byte* first = (byte*)handle.AddrOfPinnedObject() + (long)start * sizeof(float) + elementIndex;
        return new MemoryHandle(first, handle, this);
    }

    public override void Unpin()
    {
        // The GCHandle in the MemoryHandle is freed when the handle is disposed.
    }

    protected override void Dispose(bool disposing)
    {
        // Nothing to release: the array belongs to the caller.
    }
}
