namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// Where a square window slides over one (channels, height, width) image: the shared geometry of
/// convolution and pooling. Zero padding is added on every side.
/// </summary>
/// <remarks>Callers validate that the window fits (height + 2·padding ≥ kernel, likewise width).</remarks>
public readonly record struct ConvGeometry(int Channels, int Height, int Width, int Kernel, int Stride, int Padding)
{
    public int OutHeight => (Height + 2 * Padding - Kernel) / Stride + 1;

    public int OutWidth => (Width + 2 * Padding - Kernel) / Stride + 1;

    /// <summary>Rows of the im2col matrix: one per (channel, kernel row, kernel column).</summary>
    public int ColumnRows => Channels * Kernel * Kernel;

    /// <summary>Columns of the im2col matrix: one per output position.</summary>
    public int ColumnCount => OutHeight * OutWidth;

    public int ImageLength => Channels * Height * Width;

    /// <summary>Whether the window fits at least once in both directions, padding included.</summary>
    public bool Fits => Height + 2 * Padding >= Kernel && Width + 2 * Padding >= Kernel;
}
