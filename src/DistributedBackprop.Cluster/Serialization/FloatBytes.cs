using System.Runtime.InteropServices;

namespace DistributedBackprop.Cluster.Serialization;

/// <summary>
/// float32 vectors as <c>byte[]</c> for grain messages. Orleans writes a <c>float[]</c> element by element
/// (about 5 bytes per float and slow); a <c>byte[]</c> goes as one block, several times faster across silos.
/// The bytes are the machine's float32 representation (little-endian on every platform .NET runs on here).
/// </summary>
public static class FloatBytes
{
    /// <summary>A new byte array holding <paramref name="values"/>.</summary>
    public static byte[] From(ReadOnlySpan<float> values)
    {
        var bytes = GC.AllocateUninitializedArray<byte>(values.Length * sizeof(float));
        MemoryMarshal.AsBytes(values).CopyTo(bytes);
        return bytes;
    }

    /// <summary>The floats of a byte array made by <see cref="From"/>, without copying.</summary>
    public static Span<float> AsFloats(byte[] bytes) => MemoryMarshal.Cast<byte, float>(bytes.AsSpan());

    /// <summary>Floats held by <paramref name="bytes"/>.</summary>
    public static int Count(byte[] bytes) => bytes.Length / sizeof(float);
}
