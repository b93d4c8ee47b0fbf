namespace DistributedBackprop.Core.Tensors;

/// <summary>Small helpers for shapes given as dimension arrays.</summary>
public static class ShapeUtil
{
    public static long Product(ReadOnlySpan<int> shape)
    {
        long product = 1;
        foreach (int d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"Negative dimension {d} in shape {Format(shape)}.");
            }

            product *= d;
        }

        return product;
    }

    public static string Format(ReadOnlySpan<int> shape) => "(" + string.Join(", ", shape.ToArray()) + ")";

    /// <summary>(batch, ...sample) as one array.</summary>
    public static int[] WithBatch(int batch, ReadOnlySpan<int> sampleShape)
    {
        var shape = new int[sampleShape.Length + 1];
        shape[0] = batch;
        sampleShape.CopyTo(shape.AsSpan(1));
        return shape;
    }

    public static bool SameShape(ReadOnlySpan<int> x, ReadOnlySpan<int> y) => x.SequenceEqual(y);
}
