namespace DistributedBackprop.Core.Tensors;

/// <summary>
/// A float32 tensor: a contiguous row-major view (offset, shape) into a backing array.
/// The first dimension of an activation tensor is the batch.
/// </summary>
/// <remarks>Not thread-safe. A tensor never owns more than its view; several tensors may share one array.</remarks>
public sealed class Tensor
{
    public Tensor(float[] data, int offset, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        long length = ShapeUtil.Product(shape);
        if (offset < 0 || offset + length > data.Length)
        {
            throw new ArgumentException(
                $"View [{offset}, {offset + length}) of shape {ShapeUtil.Format(shape)} " +
                $"does not fit an array of {data.Length}.");
        }

        Data = data;
        Offset = offset;
        Shape = shape;
        Length = (int)length;
    }

    public Tensor(params int[] shape)
        : this(new float[ShapeUtil.Product(shape)], 0, shape)
    {
    }

    public float[] Data { get; }

    public int Offset { get; }

    /// <summary>Dimensions, outermost first. Treat as read-only.</summary>
    public int[] Shape { get; }

    public int Length { get; }

    public int Rank => Shape.Length;

    public Span<float> Span => Data.AsSpan(Offset, Length);

    public Memory<float> Memory => Data.AsMemory(Offset, Length);

    public float this[int index]
    {
        get => Data[Offset + index];
        set => Data[Offset + index] = value;
    }

    /// <summary>Same data, another shape with the same element count.</summary>
    public Tensor Reshape(params int[] shape)
    {
        if (ShapeUtil.Product(shape) != Length)
        {
            throw new ArgumentException($"Cannot reshape {ShapeUtil.Format(Shape)} to {ShapeUtil.Format(shape)}.");
        }

        return new Tensor(Data, Offset, shape);
    }

    public override string ToString() => $"Tensor{ShapeUtil.Format(Shape)}";
}
