using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
        int rowStride) =>
        ImageToColumns(geometry, image, columns, rowStride, 0, geometry.ColumnRows);

    /// <summary>
    /// As <see cref="ImageToColumns(in ConvGeometry, ReadOnlySpan{float}, Span{float}, int)"/> for the column
    /// rows [firstRow, endRow) only, written from the start of <paramref name="columns"/>: the block of rows one
    /// thread of a weight gradient split by rows needs.
    /// </summary>
    public static void ImageToColumns(
        in ConvGeometry geometry,
        ReadOnlySpan<float> image,
        Span<float> columns,
        int rowStride,
        int firstRow,
        int endRow)
    {
        Debug.Assert(image.Length >= geometry.ImageLength);
        Debug.Assert(rowStride >= geometry.ColumnCount);
        Debug.Assert(0 <= firstRow && firstRow < endRow && endRow <= geometry.ColumnRows);
        Debug.Assert(columns.Length >= (endRow - firstRow - 1) * rowStride + geometry.ColumnCount);

        int k = geometry.Kernel;
        int outHeight = geometry.OutHeight;
        int outWidth = geometry.OutWidth;
        bool same = IsSameSize(geometry);
        int firstChannel = firstRow / (k * k);
        int row = firstChannel * k * k;
        for (int c = firstChannel; c < geometry.Channels && row < endRow; c++)
        {
            var plane = image.Slice(c * geometry.Height * geometry.Width, geometry.Height * geometry.Width);
            for (int ki = 0; ki < k; ki++)
            {
                for (int kj = 0; kj < k; kj++, row++)
                {
                    if (row < firstRow || row >= endRow)
                    {
                        continue;
                    }

                    var target = columns.Slice((row - firstRow) * rowStride, outHeight * outWidth);
                    if (same)
                    {
                        PackRowSameSize(geometry, plane, ki - geometry.Padding, kj - geometry.Padding, target);
                        continue;
                    }

                    PackRow(geometry, plane, ki, kj, target);
                }
            }
        }
    }

    /// <summary>
    /// columns: (C·k·k, OH·OW) → adds every column entry into its image position (C, H, W); entries that fall in
    /// the padding are dropped. The caller clears <paramref name="image"/> first when it wants col2im alone.
    /// </summary>
    public static void AddColumnsToImage(in ConvGeometry geometry, ReadOnlySpan<float> columns, Span<float> image)
    {
        Debug.Assert(image.Length >= geometry.ImageLength);
        Debug.Assert(columns.Length >= geometry.ColumnRows * geometry.ColumnCount);

        int k = geometry.Kernel;
        int positions = geometry.ColumnCount;
        int row = 0;
        for (int c = 0; c < geometry.Channels; c++)
        {
            var plane = image.Slice(c * geometry.Height * geometry.Width, geometry.Height * geometry.Width);
            for (int ki = 0; ki < k; ki++)
            {
                for (int kj = 0; kj < k; kj++, row++)
                {
                    UnpackRow(geometry, columns.Slice(row * positions, positions), ki, kj, plane);
                }
            }
        }
    }

    /// <summary>
    /// As <see cref="AddColumnsToImage(in ConvGeometry, ReadOnlySpan{float}, Span{float})"/> from OH·OW columns of
    /// a wider matrix whose rows are <paramref name="rowStride"/> apart. Consumes the columns: entries that fall
    /// in the padding may be overwritten with zeros.
    /// </summary>
    public static void AddColumnsToImage(
        in ConvGeometry geometry,
        Span<float> columns,
        Span<float> image,
        int rowStride)
    {
        Debug.Assert(image.Length >= geometry.ImageLength);
        Debug.Assert(rowStride >= geometry.ColumnCount);
        Debug.Assert(columns.Length >= (geometry.ColumnRows - 1) * rowStride + geometry.ColumnCount);

        int k = geometry.Kernel;
        int outHeight = geometry.OutHeight;
        int outWidth = geometry.OutWidth;
        bool same = IsSameSize(geometry);
        int row = 0;
        for (int c = 0; c < geometry.Channels; c++)
        {
            var plane = image.Slice(c * geometry.Height * geometry.Width, geometry.Height * geometry.Width);
            for (int ki = 0; ki < k; ki++)
            {
                for (int kj = 0; kj < k; kj++, row++)
                {
                    var source = columns.Slice(row * rowStride, outHeight * outWidth);
                    if (same)
                    {
                        UnpackRowSameSize(geometry, source, ki - geometry.Padding, kj - geometry.Padding, plane);
                        continue;
                    }

                    UnpackRow(geometry, source, ki, kj, plane);
                }
            }
        }
    }

    /// <summary>
    /// image = col2im(columns): as clearing <paramref name="image"/> and then calling
    /// <see cref="AddColumnsToImage(in ConvGeometry, Span{float}, Span{float}, int)"/>, with the same bits. For
    /// "same" geometries each image element is summed in a register over the kernel offsets, in their order,
    /// and stored once, rather than the plane being cleared and then read and written once per offset.
    /// Consumes the columns likewise.
    /// </summary>
    public static void ColumnsToImage(in ConvGeometry geometry, Span<float> columns, Span<float> image, int rowStride)
    {
        Debug.Assert(image.Length >= geometry.ImageLength);
        Debug.Assert(rowStride >= geometry.ColumnCount);
        Debug.Assert(columns.Length >= (geometry.ColumnRows - 1) * rowStride + geometry.ColumnCount);

        if (!IsSameSize(geometry))
        {
            image[..geometry.ImageLength].Clear();
            AddColumnsToImage(geometry, columns, image, rowStride);
            return;
        }

        int offsets = geometry.Kernel * geometry.Kernel;
        int planeLength = geometry.Height * geometry.Width;
        Span<OffsetBlock> blocks = offsets <= 64 ? stackalloc OffsetBlock[offsets] : new OffsetBlock[offsets];
        for (int t = 0; t < offsets; t++)
        {
            int dy = t / geometry.Kernel - geometry.Padding;
            int dx = t % geometry.Kernel - geometry.Padding;
            blocks[t] = OffsetBlock.Create(geometry, dy, dx);
        }

        for (int c = 0; c < geometry.Channels; c++)
        {
            var rows = columns[(c * offsets * rowStride)..];
            for (int t = 0; t < offsets; t++)
            {
                var block = blocks[t];
                if (block.Count > 0)
                {
                    var row = rows[(t * rowStride)..];
                    ClearWrappedColumns(row, block.FirstRow, block.EndRow, block.Dx, geometry.Width);
                }
            }

            SumOffsets(blocks, rows, rowStride, image.Slice(c * planeLength, planeLength));
        }
    }

    // One kernel offset of a "same" geometry: plane[p] += row[p − Shift] for p in [From, From + Count), the
    // block UnpackRowSameSize adds; FirstRow, EndRow, Dx as there, for clearing the wrapped columns.
    private readonly record struct OffsetBlock(int From, int Count, int Shift, int FirstRow, int EndRow, int Dx)
    {
        public static OffsetBlock Create(in ConvGeometry g, int dy, int dx)
        {
            int width = g.Width;
            int length = g.Height * width;
            int firstRow = Math.Max(0, -dy);
            int endRow = Math.Min(g.Height, g.Height - dy);
            if (firstRow >= endRow || Math.Abs(dx) >= width)
            {
                return new OffsetBlock(0, 0, 0, 0, 0, dx);
            }

            var (from, to, count) = ShiftedBlock(firstRow, endRow, dy, dx, width, length);
            return new OffsetBlock(from, count, from - to, firstRow, endRow, dx);
        }

        public bool Covers(int p) => p >= From && p < From + Count;
    }

    // plane[p] = Σ over offsets t in order of row_t[p − Shift_t], for the t whose block covers p. Adding a
    // contribution of +0 would change nothing (the sum starts at +0 and so is never −0), so skipping the offsets
    // that do not cover p gives the bits of clearing the plane and adding each offset's block in turn.
    private static void SumOffsets(
        ReadOnlySpan<OffsetBlock> blocks,
        ReadOnlySpan<float> rows,
        int rowStride,
        Span<float> plane)
    {
        // [inner, innerEnd): positions every non-empty block covers, summed a vector at a time.
        int inner = 0;
        int innerEnd = plane.Length;
        foreach (var block in blocks)
        {
            if (block.Count > 0)
            {
                inner = Math.Max(inner, block.From);
                innerEnd = Math.Min(innerEnd, block.From + block.Count);
            }
        }

        ref float first = ref MemoryMarshal.GetReference(rows);
        ref float target = ref MemoryMarshal.GetReference(plane);
        int p = 0;
        for (; p < Math.Min(inner, plane.Length); p++)
        {
            plane[p] = SumAt(blocks, rows, rowStride, p);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; p <= innerEnd - Vector256<float>.Count; p += Vector256<float>.Count)
            {
                var sum = Vector256<float>.Zero;
                for (int t = 0; t < blocks.Length; t++)
                {
                    if (blocks[t].Count > 0)
                    {
                        sum += Vector256.LoadUnsafe(ref first, (nuint)(t * rowStride + p - blocks[t].Shift));
                    }
                }

                sum.StoreUnsafe(ref target, (nuint)p);
            }
        }

        for (; p < plane.Length; p++)
        {
            plane[p] = SumAt(blocks, rows, rowStride, p);
        }
    }

    private static float SumAt(ReadOnlySpan<OffsetBlock> blocks, ReadOnlySpan<float> rows, int rowStride, int p)
    {
        float sum = 0f;
        for (int t = 0; t < blocks.Length; t++)
        {
            if (blocks[t].Covers(p))
            {
                sum += rows[t * rowStride + p - blocks[t].Shift];
            }
        }

        return sum;
    }

    // Stride 1 with the output as large as the input ("same" padding, e.g. 3×3 with padding 1): each row of the
    // column matrix is then the plane shifted by (dy, dx) = (ki − padding, kj − padding), so it is copied as one
    // block rather than OH short lines, and the entries that wrapped around a row edge are zeroed afterwards.
    private static bool IsSameSize(in ConvGeometry g) =>
        g.Stride == 1 && g.OutHeight == g.Height && g.OutWidth == g.Width;

    // plane, target: (H, W) for one kernel offset; target[oh, ow] = plane[oh + dy, ow + dx] or 0 outside.
    private static void PackRowSameSize(
        in ConvGeometry g,
        ReadOnlySpan<float> plane,
        int dy,
        int dx,
        Span<float> target)
    {
        int width = g.Width;
        int length = g.Height * width;
        int firstRow = Math.Max(0, -dy);
        int endRow = Math.Min(g.Height, g.Height - dy);
        if (firstRow >= endRow || Math.Abs(dx) >= width)
        {
            target[..length].Clear();
            return;
        }

        target[..(firstRow * width)].Clear();
        target[(endRow * width)..length].Clear();
        var (source, destination, count) = ShiftedBlock(firstRow, endRow, dy, dx, width, length);
        plane.Slice(source, count).CopyTo(target.Slice(destination, count));
        ClearWrappedColumns(target, firstRow, endRow, dx, width);
    }

    // The adjoint of PackRowSameSize: plane[oh + dy, ow + dx] += source[oh, ow] where inside. The wrapped
    // entries of source are zeroed first so that one block addition adds nothing across a row edge.
    private static void UnpackRowSameSize(in ConvGeometry g, Span<float> source, int dy, int dx, Span<float> plane)
    {
        int width = g.Width;
        int length = g.Height * width;
        int firstRow = Math.Max(0, -dy);
        int endRow = Math.Min(g.Height, g.Height - dy);
        if (firstRow >= endRow || Math.Abs(dx) >= width)
        {
            return;
        }

        ClearWrappedColumns(source, firstRow, endRow, dx, width);
        var (from, to, count) = ShiftedBlock(firstRow, endRow, dy, dx, width, length);
        var run = plane.Slice(from, count);
        TensorPrimitives.Add(run, source.Slice(to, count), run);
    }

    // The block [to, to + count) of a (H, W) column row that maps onto [from, from + count) of the plane, cut to
    // the plane's bounds; what is cut lies in wrapped columns only.
    private static (int From, int To, int Count) ShiftedBlock(
        int firstRow,
        int endRow,
        int dy,
        int dx,
        int width,
        int length)
    {
        int from = (firstRow + dy) * width + dx;
        int to = firstRow * width;
        int count = (endRow - firstRow) * width;
        if (from < 0)
        {
            to -= from;
            count += from;
            from = 0;
        }

        count = Math.Min(count, length - from);
        return (from, to, count);
    }

    // Columns ow whose input column ow + dx falls outside [0, W), for rows [firstRow, endRow).
    private static void ClearWrappedColumns(Span<float> rows, int firstRow, int endRow, int dx, int width)
    {
        if (dx == 0)
        {
            return;
        }

        // Usually one element per row (a 3×3 kernel): plain stores, as a Clear call per row cost more than the
        // block copy it follows.
        Debug.Assert(endRow * width <= rows.Length);
        int start = dx > 0 ? width - dx : 0;
        int count = Math.Abs(dx);
        ref float first = ref MemoryMarshal.GetReference(rows);
        for (int oh = firstRow; oh < endRow; oh++)
        {
            ref float line = ref Unsafe.Add(ref first, oh * width + start);
            for (int j = 0; j < count; j++)
            {
                Unsafe.Add(ref line, j) = 0f;
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
