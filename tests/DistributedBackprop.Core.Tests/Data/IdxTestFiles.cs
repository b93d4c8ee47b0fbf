using System.Buffers.Binary;
using System.IO.Compression;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Data;

/// <summary>Writes IDX files byte by byte from the format's description, independently of the reader.</summary>
internal static class IdxTestFiles
{
    /// <summary>Header (magic, big-endian sizes) followed by <paramref name="data"/>, optionally gzipped.</summary>
    public static void Write(string path, byte typeCode, int[] dims, ReadOnlySpan<byte> data, bool gzip = false)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = typeCode;
        bytes[3] = (byte)dims.Length;
        for (int d = 0; d < dims.Length; d++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dims[d]);
        }

        data.CopyTo(bytes.AsSpan(4 + 4 * dims.Length));
        WriteBytes(path, bytes, gzip);
    }

    public static void WriteBytes(string path, byte[] bytes, bool gzip)
    {
        if (!gzip)
        {
            File.WriteAllBytes(path, bytes);
            return;
        }

        using var file = File.Create(path);
        using var compressor = new GZipStream(file, CompressionLevel.Fastest);
        compressor.Write(bytes);
    }

    public static byte[] RandomBytes(int count, ulong seed, int maxExclusive = 256)
    {
        var rng = new DeterministicRandom(seed);
        var bytes = new byte[count];
        for (int i = 0; i < count; i++)
        {
            bytes[i] = (byte)rng.NextInt(maxExclusive);
        }

        return bytes;
    }

    /// <summary>Writes images (count, rows, columns) and labels (count) under the standard names of a split.</summary>
    public static (byte[] Pixels, byte[] Labels) WriteSplit(
        string directory, string prefix, int count, int rows, int columns, int classCount, ulong seed, bool gzip)
    {
        byte[] pixels = RandomBytes(count * rows * columns, seed);
        byte[] labels = RandomBytes(count, seed + 1, classCount);
        string suffix = gzip ? ".gz" : "";
        string images = Path.Combine(directory, $"{prefix}-images-idx3-ubyte{suffix}");
        Write(images, 0x08, [count, rows, columns], pixels, gzip);
        Write(Path.Combine(directory, $"{prefix}-labels-idx1-ubyte{suffix}"), 0x08, [count], labels, gzip);
        return (pixels, labels);
    }
}
