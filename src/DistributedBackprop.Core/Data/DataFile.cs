using System.IO.Compression;

namespace DistributedBackprop.Core.Data;

/// <summary>Opens a data file for reading, decompressing it when it starts with the gzip magic.</summary>
internal static class DataFile
{
    private const int GzipMagic0 = 0x1f;
    private const int GzipMagic1 = 0x8b;

    /// <summary>
    /// A stream of the file's content (decompressed if gzipped). The gzip test looks at the bytes, not at the
    /// extension, so a renamed or a plain ".gz" file both work.
    /// </summary>
    public static Stream OpenRead(string path, out bool gzipped)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetException($"{path}: cannot open the file: {e.Message}", e);
        }

        int first = file.ReadByte();
        int second = file.ReadByte();
        file.Position = 0;
        gzipped = first == GzipMagic0 && second == GzipMagic1;
        return gzipped ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the stream ends; returns the bytes read.</summary>
    public static int ReadFully(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = stream.Read(buffer[total..]);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    /// <summary>Reads the rest of the stream and returns how many bytes it held.</summary>
    public static long CountRemaining(Stream stream, Span<byte> scratch)
    {
        long total = 0;
        int read;
        while ((read = stream.Read(scratch)) > 0)
        {
            total += read;
        }

        return total;
    }
}
