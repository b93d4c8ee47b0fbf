using System.Buffers.Binary;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Cluster.Tests.Infrastructure;

/// <summary>
/// A small learnable image dataset written as the four IDX files into a temporary directory: each class has a
/// random template image, and a sample is its template plus noise. Deterministic from the seed.
/// </summary>
public sealed class SyntheticDataset : IDisposable
{
    public SyntheticDataset(int trainRows, int testRows, int side, int classes, ulong seed = 7)
    {
        Directory = Path.Combine(Path.GetTempPath(), "dbp-cluster-tests-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        var random = new DeterministicRandom(seed);
        var templates = new byte[classes][];
        for (int c = 0; c < classes; c++)
        {
            templates[c] = new byte[side * side];
            for (int i = 0; i < templates[c].Length; i++)
            {
                templates[c][i] = (byte)random.NextInt(200);
            }
        }

        Write("train", trainRows, side, templates, random);
        Write("t10k", testRows, side, templates, random);
    }

    /// <summary>256 training and 64 test images of 8×8 pixels in 10 classes: the presets' 10 logits, ~50k
    /// parameters (13 norm chunks, so 3 shards), and steps of milliseconds.</summary>
    public static SyntheticDataset Small() => new(trainRows: 256, testRows: 64, side: 8, classes: 10);

    /// <summary>The directory holding the IDX files; pass it as the spec's dataset_directory.</summary>
    public string Directory { get; }

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

    private void Write(string split, int rows, int side, byte[][] templates, DeterministicRandom random)
    {
        var images = new byte[16 + rows * side * side];
        BinaryPrimitives.WriteInt32BigEndian(images, 0x00000803);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(4), rows);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(8), side);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(12), side);
        var labels = new byte[8 + rows];
        BinaryPrimitives.WriteInt32BigEndian(labels, 0x00000801);
        BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), rows);
        for (int r = 0; r < rows; r++)
        {
            int label = random.NextInt(templates.Length);
            labels[8 + r] = (byte)label;
            var image = images.AsSpan(16 + r * side * side, side * side);
            for (int i = 0; i < image.Length; i++)
            {
                image[i] = (byte)Math.Min(255, templates[label][i] + random.NextInt(56));
            }
        }

        File.WriteAllBytes(Path.Combine(Directory, $"{split}-images-idx3-ubyte"), images);
        File.WriteAllBytes(Path.Combine(Directory, $"{split}-labels-idx1-ubyte"), labels);
    }
}
