using System.Buffers.Binary;
using System.IO.Compression;

namespace DistributedBackprop.Benchmarks.Clusters;

/// <summary>
/// The first rows of Fashion-MNIST written as the four raw IDX files into a temporary directory, so a
/// benchmark run takes seconds per epoch instead of minutes; every silo process reads the same directory.
/// </summary>
internal sealed class DatasetSubset : IDisposable
{
    public const string SourceDirectory = "/usr/share/datasets/fashion-mnist";

    private DatasetSubset(string directory, int trainRows, int testRows)
    {
        Directory = directory;
        TrainRows = trainRows;
        TestRows = testRows;
    }

    /// <summary>The directory holding the IDX files; pass it as the spec's dataset_directory.</summary>
    public string Directory { get; }

    public int TrainRows { get; }

    public int TestRows { get; }

    /// <exception cref="FileNotFoundException">Fashion-MNIST is not installed
    /// (<c>apt-get install -y dataset-fashion-mnist</c>).</exception>
    public static DatasetSubset Write(int trainRows, int testRows)
    {
        string directory = Path.Combine(Path.GetTempPath(), "dbp-bench-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(directory);
        Copy("train-images-idx3-ubyte", directory, trainRows, rowBytes: 28 * 28, headerBytes: 16);
        Copy("train-labels-idx1-ubyte", directory, trainRows, rowBytes: 1, headerBytes: 8);
        Copy("t10k-images-idx3-ubyte", directory, testRows, rowBytes: 28 * 28, headerBytes: 16);
        Copy("t10k-labels-idx1-ubyte", directory, testRows, rowBytes: 1, headerBytes: 8);
        return new DatasetSubset(directory, trainRows, testRows);
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary directory is harmless.
        }
    }

    // Keeps the header (magic, then big-endian sizes) with the row count replaced, then the first rows.
    private static void Copy(string name, string directory, int rows, int rowBytes, int headerBytes)
    {
        string source = Path.Combine(SourceDirectory, name + ".gz");
        if (!File.Exists(source))
        {
            throw new FileNotFoundException(
                $"{source} is missing: install Fashion-MNIST with `apt-get install -y dataset-fashion-mnist`.");
        }

        using var input = new GZipStream(File.OpenRead(source), CompressionMode.Decompress);
        var bytes = new byte[headerBytes + (long)rows * rowBytes];
        input.ReadExactly(bytes);
        int available = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4));
        if (rows > available)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), $"{name} has {available} rows; asked for {rows}.");
        }

        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), rows);
        File.WriteAllBytes(Path.Combine(directory, name), bytes);
    }
}
