using System.Diagnostics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// Rearranges one image so that a convolution becomes a matrix product, and back.
/// Row r = (c·k + ki)·k + kj of the column matrix holds, for every output position (oh, ow), the input value
/// at (c, oh·stride − padding + ki, ow·stride − padding + kj), or zero where that falls in the padding.
/// </summary>
public static class Im2Col
{
    /// <summary>image: (C, H, W) → columns: (C·k·k, OH·OW); every element of columns is written.</summary>
    public static void ImageToColumns(in ConvGeometry geometry, ReadOnlySpan<float> image, Span<float> columns) =>
        ImageToColumns(geometry, image, columns, geometry.ColumnCount);

    /// <summary>
    /// As <see cref="ImageToColumns(in ConvGeometry, ReadOnlySpan{float}, Span{float})"/> into OH·OW columns
    /// of a wider matrix whose rows are <paramref name="rowStride"/> apart, e.g. one sample's block of a
    /// (C·k·k, batch·OH·OW) matrix.
    /// </summary>
    public static void ImageToColumns(
        in ConvGeometry geometry,
        ReadOnlySpan<float> image,
        Span<float> columns,
        int rowStride)
    {
        Debug.Assert(image.Length >= geometry.ImageLength);
        Debug.Assert(rowStride >= geometry.ColumnCount);
        Debug.Assert(columns.Length >= (geometry.ColumnRows - 1) * rowStride + geometry.ColumnCount);

        int k = geometry.Kernel;
        int outHeight = geometry.OutHeight;
        int outWidth = geometry.OutWidth;
        int row = 0;
        for (int c = 0; c < geometry.Channels; c++)
        {
            var plane = image.Slice(c * geometry.Height * geometry.Width, geometry.Height * geometry.Width);
            for (int ki = 0; ki < k; ki++)
            {
                for (int kj = 0; kj < k; kj++, row++)
                {
                    var target = columns.Slice(row * rowStride, outHeight * outWidth);
                    PackRow(geometry, plane, ki, kj, target);
                }
            }
        }
    }

    /// <summary>
    /// columns: (C·k·k, OH·OW) → adds every column entry into its image position (C, H, W); entries that fall in
    /// the padding are dropped. The caller clears <paramref name="image"/> first when it wants col2im alone.
    /// </summary>
    public static void AddColumnsToImage(in ConvGeometry geometry, ReadOnlySpan<float> columns, Span<float> image) =>
        AddColumnsToImage(geometry, columns, image, geometry.ColumnCount);

    /// <summary>
    /// As <see cref="AddColumnsToImage(in ConvGeometry, ReadOnlySpan{float}, Span{float})"/> from OH·OW columns of
    /// a wider matrix whose rows are <paramref name="rowStride"/> apart.
    /// </summary>
    public static void AddColumnsToImage(
        in ConvGeometry geometry,
        ReadOnlySpan<float> columns,
        Span<float> image,
        int rowStride)
    {
        Debug.Assert(image.Length >= geometry.ImageLength);
        Debug.Assert(rowStride >= geometry.ColumnCount);
        Debug.Assert(columns.Length >= (geometry.ColumnRows - 1) * rowStride + geometry.ColumnCount);

        int k = geometry.Kernel;
        int outHeight = geometry.OutHeight;
        int outWidth = geometry.OutWidth;
        int row = 0;
        for (int c = 0; c < geometry.Channels; c++)
        {
            var plane = image.Slice(c * geometry.Height * geometry.Width, geometry.Height * geometry.Width);
            for (int ki = 0; ki < k; ki++)
            {
                for (int kj = 0; kj < k; kj++, row++)
                {
                    var source = columns.Slice(row * rowStride, outHeight * outWidth);
                    UnpackRow(geometry, source, ki, kj, plane);
                }
            }
        }
    }

    // plane: (H, W); target: (OH, OW) for one kernel offset (ki, kj).
    private static void PackRow(in ConvGeometry g, ReadOnlySpan<float> plane, int ki, int kj, Span<float> target)
    {
        int outWidth = g.OutWidth;
        ValidRange(g, kj, out int first, out int end);
        for (int oh = 0; oh < g.OutHeight; oh++)
        {
            var line = target.Slice(oh * outWidth, outWidth);
            int ih = oh * g.Stride - g.Padding + ki;
            if (ih < 0 || ih >= g.Height || first >= end)
            {
                line.Clear();
                continue;
            }

            line[..first].Clear();
            line[end..].Clear();
            var source = plane.Slice(ih * g.Width, g.Width);
            int iw = first * g.Stride - g.Padding + kj;
            if (g.Stride == 1)
            {
                source.Slice(iw, end - first).CopyTo(line[first..end]);
            }
            else
            {
                for (int ow = first; ow < end; ow++, iw += g.Stride)
                {
                    line[ow] = source[iw];
                }
            }
        }
    }

    // The mirror of PackRow: adds target positions back into the plane.
    private static void UnpackRow(in ConvGeometry g, ReadOnlySpan<float> source, int ki, int kj, Span<float> plane)
    {
        int outWidth = g.OutWidth;
        ValidRange(g, kj, out int first, out int end);
        for (int oh = 0; oh < g.OutHeight; oh++)
        {
            int ih = oh * g.Stride - g.Padding + ki;
            if (ih < 0 || ih >= g.Height)
            {
                continue;
            }

            var line = source.Slice(oh * outWidth, outWidth);
            var target = plane.Slice(ih * g.Width, g.Width);
            int iw = first * g.Stride - g.Padding + kj;
            if (g.Stride == 1)
            {
                // One addition per element either way; the vector path only saves the bounds checks.
                var run = target.Slice(iw, end - first);
                TensorPrimitives.Add(run, line[first..end], run);
                continue;
            }

            for (int ow = first; ow < end; ow++, iw += g.Stride)
            {
                target[iw] += line[ow];
            }
        }
    }

    // Output columns [first, end) whose input column ow·stride − padding + kj lies inside the image.
    private static void ValidRange(in ConvGeometry g, int kj, out int first, out int end)
    {
        int offset = kj - g.Padding;
        first = offset >= 0 ? 0 : (-offset + g.Stride - 1) / g.Stride;
        int lastInside = g.Width - 1 - offset;
        end = lastInside < 0 ? 0 : Math.Min(g.OutWidth, lastInside / g.Stride + 1);
        first = Math.Min(first, end);
    }
}
