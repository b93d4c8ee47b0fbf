using System.Buffers.Binary;

namespace DistributedBackprop.Core.Data;

/// <summary>
/// Reads the IDX format of MNIST and Fashion-MNIST: a 4-byte magic (two zero bytes, a type code, the number
/// of dimensions), one big-endian 32-bit size per dimension, then the values in row-major order. Only unsigned
/// bytes are supported: 3-dimensional image files (magic 0x00000803) and 1-dimensional label files (0x00000801).
/// Files may be raw or gzipped (recognised by their first two bytes).
/// </summary>
/// <remarks>
/// Byte offsets in error messages count from the start of the decompressed content, which for a raw file is
/// the file itself.
/// </remarks>
public static class IdxReader
{
    /// <summary>The magic of an unsigned-byte file with 3 dimensions (count, rows, columns).</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>The magic of an unsigned-byte file with 1 dimension (count).</summary>
    public const int LabelsMagic = 0x00000801;

    private const byte UnsignedByteType = 0x08;
    private const int ChunkSize = 1 << 16;

    // byte / 255 for every byte value, computed once so the conversion is a table lookup with exact division.
    private static readonly float[] PixelScale = BuildPixelScale();

    /// <summary>
    /// Reads an image file and its label file into a dataset of samples (1, rows, columns) with pixels scaled to
    /// [0, 1] (value / 255).
    /// </summary>
    /// <param name="classCount">Labels must be below it; when null, it is the largest label plus one.</param>
    /// <exception cref="DatasetException">A file is missing, malformed or truncated, or the files disagree.</exception>
    public static Dataset Read(string imagesPath, string labelsPath, string name, int? classCount = null)
    {
        ArgumentNullException.ThrowIfNull(imagesPath);
        ArgumentNullException.ThrowIfNull(labelsPath);
        ArgumentNullException.ThrowIfNull(name);
        if (classCount is < 1 or > 256)
        {
            throw new ArgumentOutOfRangeException(
                nameof(classCount), $"Class count {classCount} is outside [1, 256], the range of byte labels.");
        }

        var (pixels, count, rows, columns) = ReadImages(imagesPath);
        int[] labels = ReadLabels(labelsPath, classCount);
        if (labels.Length != count)
        {
            throw new DatasetException(
                $"{labelsPath}: offset 4: the label file holds {labels.Length} labels but the image file "
                + $"{imagesPath} holds {count} images; the counts must match.");
        }

        int classes = classCount ?? (labels.Length == 0 ? 1 : labels.Max() + 1);
        return new Dataset(name, pixels, labels, [1, rows, columns], classes);
    }

    /// <summary>Reads a 0x00000803 image file: pixels (count, rows, columns) scaled to [0, 1].</summary>
    /// <exception cref="DatasetException">The file is missing, malformed or truncated.</exception>
    public static (float[] Pixels, int Count, int Rows, int Columns) ReadImages(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = Open(path);
        try
        {
            int[] dims = ReadHeader(stream, path, ImagesMagic, "unsigned-byte images with 3 dimensions");
            long length = (long)dims[0] * dims[1] * dims[2];
            if (length > Array.MaxLength)
            {
                throw new DatasetException(
                    $"{path}: offset 4: {dims[0]} images of {dims[1]}x{dims[2]} make {length} values, more than "
                    + $"one array can hold ({Array.MaxLength}).");
            }

            var pixels = new float[length];
            ReadBody(stream, path, HeaderSize(dims.Length), length, (chunk, start) =>
            {
                var target = pixels.AsSpan((int)start, chunk.Length);
                for (int i = 0; i < chunk.Length; i++)
                {
                    target[i] = PixelScale[chunk[i]];
                }
            });
            return (pixels, dims[0], dims[1], dims[2]);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw Unreadable(path, e);
        }
    }

    /// <summary>Reads a 0x00000801 label file.</summary>
    /// <param name="classCount">When given, every label must be below it.</param>
    /// <exception cref="DatasetException">The file is missing, malformed or truncated, or a label is out of range.
    /// </exception>
    public static int[] ReadLabels(string path, int? classCount = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = Open(path);
        try
        {
            int[] dims = ReadHeader(stream, path, LabelsMagic, "unsigned-byte labels with 1 dimension");
            int headerSize = HeaderSize(dims.Length);
            var labels = new int[dims[0]];
            ReadBody(stream, path, headerSize, labels.Length, (chunk, start) =>
            {
                for (int i = 0; i < chunk.Length; i++)
                {
                    int label = chunk[i];
                    if (label >= classCount)
                    {
                        throw new DatasetException(
                            $"{path}: offset {headerSize + start + i}: label {label} of row {start + i} is outside "
                            + $"[0, {classCount}).");
                    }

                    labels[start + i] = label;
                }
            });
            return labels;
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw Unreadable(path, e);
        }
    }

    private static Stream Open(string path)
    {
        if (!File.Exists(path))
        {
            throw new DatasetException($"{path}: the file does not exist.");
        }

        return DataFile.OpenRead(path, out _);
    }

    private static int HeaderSize(int dimensionCount) => 4 + 4 * dimensionCount;

    /// <summary>Checks the magic and returns the dimensions, each validated as non-negative.</summary>
    private static int[] ReadHeader(Stream stream, string path, int expectedMagic, string expectedMeaning)
    {
        Span<byte> magic = stackalloc byte[4];
        int read = DataFile.ReadFully(stream, magic);
        if (read < 4)
        {
            throw new DatasetException(
                $"{path}: offset {read}: the file ends inside the 4-byte magic number; expected 0x{expectedMagic:X8} "
                + $"({expectedMeaning}).");
        }

        int found = BinaryPrimitives.ReadInt32BigEndian(magic);
        if (magic[0] != 0 || magic[1] != 0)
        {
            throw new DatasetException(
                $"{path}: offset 0: wrong magic number 0x{found:X8}, expected 0x{expectedMagic:X8} "
                + $"({expectedMeaning}); this is not an IDX file.");
        }

        if (magic[2] != UnsignedByteType)
        {
            throw new DatasetException(
                $"{path}: offset 2: unsupported type code 0x{magic[2]:X2} ({TypeName(magic[2])}); only 0x08 "
                + $"(unsigned byte) is supported, as in magic 0x{expectedMagic:X8} ({expectedMeaning}).");
        }

        if (found != expectedMagic)
        {
            throw new DatasetException(
                $"{path}: offset 3: wrong magic number 0x{found:X8} ({magic[3]} dimensions), expected "
                + $"0x{expectedMagic:X8} ({expectedMeaning}).");
        }

        var dims = new int[magic[3]];
        Span<byte> size = stackalloc byte[4];
        for (int d = 0; d < dims.Length; d++)
        {
            int offset = 4 + 4 * d;
            read = DataFile.ReadFully(stream, size);
            if (read < 4)
            {
                throw new DatasetException(
                    $"{path}: offset {offset + read}: the file ends inside the header; expected "
                    + $"{HeaderSize(dims.Length)} header bytes ({dims.Length} dimension sizes).");
            }

            dims[d] = BinaryPrimitives.ReadInt32BigEndian(size);
            if (dims[d] < 0)
            {
                throw new DatasetException(
                    $"{path}: offset {offset}: dimension {d} has the size {dims[d]}, which is negative.");
            }
        }

        return dims;
    }

    /// <summary>
    /// Streams exactly <paramref name="length"/> data bytes to <paramref name="consume"/> in chunks (with each
    /// chunk's position in the data), then checks that nothing follows them.
    /// </summary>
    private static void ReadBody(
        Stream stream, string path, int headerSize, long length, Action<ReadOnlySpan<byte>, long> consume)
    {
        var chunk = new byte[ChunkSize];
        long done = 0;
        while (done < length)
        {
            int want = (int)Math.Min(chunk.Length, length - done);
            int read = DataFile.ReadFully(stream, chunk.AsSpan(0, want));
            if (read < want)
            {
                throw new DatasetException(
                    $"{path}: offset {headerSize + done + read}: truncated file: expected {length} bytes of data after "
                    + $"the {headerSize}-byte header, found {done + read}.");
            }

            consume(chunk.AsSpan(0, read), done);
            done += read;
        }

        long trailing = DataFile.CountRemaining(stream, chunk);
        if (trailing > 0)
        {
            throw new DatasetException(
                $"{path}: offset {headerSize + length}: expected {length} bytes of data after the {headerSize}-byte "
                + $"header, found {length + trailing}; the header's sizes do not match the file.");
        }
    }

    private static DatasetException Unreadable(string path, Exception e) =>
        new($"{path}: the file cannot be read (corrupt gzip data or an I/O error): {e.Message}", e);

    private static string TypeName(byte code) => code switch
    {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "16-bit integer",
        0x0C => "32-bit integer",
        0x0D => "32-bit float",
        0x0E => "64-bit float",
        _ => "not an IDX type",
    };

    private static float[] BuildPixelScale()
    {
        var table = new float[256];
        for (int b = 0; b < table.Length; b++)
        {
            table[b] = b / 255f;
        }

        return table;
    }
}
