using DistributedBackprop.Core.Kernels;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Kernels;

public sealed class Im2ColTests
{
    [Theory]
    [InlineData(2, 5, 7, 3, 1, 0)]
    [InlineData(2, 5, 7, 3, 1, 2)]
    [InlineData(3, 8, 6, 3, 2, 1)]
    [InlineData(1, 4, 9, 2, 3, 1)]
    [InlineData(2, 3, 3, 5, 1, 1)]
    [InlineData(2, 5, 7, 3, 1, 1)]
    [InlineData(1, 6, 4, 5, 1, 2)]
    [InlineData(1, 1, 1, 3, 1, 1)]
    public void ImageToColumns_EveryEntry_IsInputPixelOrZeroPadding(
        int channels, int height, int width, int kernel, int stride, int padding)
    {
        var g = new ConvGeometry(channels, height, width, kernel, stride, padding);
        var image = RandomValues(g.ImageLength, 1);
        var columns = RandomValues(g.ColumnRows * g.ColumnCount, 2);

        Im2Col.ImageToColumns(g, image, columns);

        for (int c = 0; c < channels; c++)
        {
            for (int ki = 0; ki < kernel; ki++)
            {
                for (int kj = 0; kj < kernel; kj++)
                {
                    int row = (c * kernel + ki) * kernel + kj;
                    for (int oh = 0; oh < g.OutHeight; oh++)
                    {
                        for (int ow = 0; ow < g.OutWidth; ow++)
                        {
                            int y = oh * stride - padding + ki;
                            int x = ow * stride - padding + kj;
                            bool inside = y >= 0 && y < height && x >= 0 && x < width;
                            float expected = inside ? image[(c * height + y) * width + x] : 0f;
                            Assert.Equal(expected, columns[row * g.ColumnCount + oh * g.OutWidth + ow]);
                        }
                    }
                }
            }
        }
    }

    // A row range (as one thread of a weight gradient split by rows builds it), into a wider matrix: the same
    // rows as the whole column matrix, written from the start of the block, and nothing past the range.
    [Theory]
    [InlineData(4, 6, 6, 3, 1, 1, 0, 36)]
    [InlineData(4, 6, 6, 3, 1, 1, 14, 28)]
    [InlineData(3, 8, 6, 3, 2, 1, 5, 23)]
    [InlineData(2, 5, 7, 3, 1, 0, 17, 18)]
    public void ImageToColumns_RowRange_MatchesThoseRowsOfTheWholeMatrix(
        int channels, int height, int width, int kernel, int stride, int padding, int firstRow, int endRow)
    {
        var g = new ConvGeometry(channels, height, width, kernel, stride, padding);
        var image = RandomValues(g.ImageLength, 5);
        var whole = new float[g.ColumnRows * g.ColumnCount];
        int rowStride = g.ColumnCount + 3;
        var block = RandomValues(g.ColumnRows * rowStride, 6);
        var untouched = block.ToArray();

        Im2Col.ImageToColumns(g, image, whole);
        Im2Col.ImageToColumns(g, image, block, rowStride, firstRow, endRow);

        for (int r = 0; r < g.ColumnRows; r++)
        {
            var actual = block.AsSpan(r * rowStride, g.ColumnCount).ToArray();
            var expected = r < endRow - firstRow
                ? whole.AsSpan((firstRow + r) * g.ColumnCount, g.ColumnCount).ToArray()
                : untouched.AsSpan(r * rowStride, g.ColumnCount).ToArray();
            Assert.Equal(expected, actual);
        }
    }

    // col2im is the transpose of im2col: <im2col(x), y> = <x, col2im(y)> for any x and y.
    [Theory]
    [InlineData(2, 5, 7, 3, 1, 0)]
    [InlineData(3, 8, 6, 3, 2, 1)]
    [InlineData(1, 4, 9, 2, 3, 1)]
    [InlineData(2, 6, 6, 3, 1, 1)]
    public void AddColumnsToImage_IsAdjointOfImageToColumns(
        int channels, int height, int width, int kernel, int stride, int padding)
    {
        var g = new ConvGeometry(channels, height, width, kernel, stride, padding);
        var image = RandomValues(g.ImageLength, 3);
        var columns = RandomValues(g.ColumnRows * g.ColumnCount, 4);
        var packed = new float[columns.Length];
        var unpacked = new float[image.Length];

        Im2Col.ImageToColumns(g, image, packed);
        Im2Col.AddColumnsToImage(g, columns, unpacked);

        double left = packed.Zip(columns, (a, b) => (double)a * b).Sum();
        double right = image.Zip(unpacked, (a, b) => (double)a * b).Sum();
        Assert.Equal(left, right, 1e-4);
    }

    [Theory]
    [InlineData(2, 5, 7, 3, 1, 1)]
    [InlineData(1, 6, 4, 5, 1, 2)]
    [InlineData(3, 8, 6, 3, 2, 1)]
    [InlineData(2, 5, 7, 3, 1, 0)]
    [InlineData(1, 1, 1, 3, 1, 1)]
    public void ImageToColumns_WiderMatrix_FillsItsBlockLikeTheNarrowOne(
        int channels, int height, int width, int kernel, int stride, int padding)
    {
        var g = new ConvGeometry(channels, height, width, kernel, stride, padding);
        var image = RandomValues(g.ImageLength, 5);
        var narrow = new float[g.ColumnRows * g.ColumnCount];
        int rowStride = 3 * g.ColumnCount + 1;
        var wide = RandomValues(g.ColumnRows * rowStride, 6);
        var untouched = (float[])wide.Clone();

        Im2Col.ImageToColumns(g, image, narrow);
        Im2Col.ImageToColumns(g, image, wide.AsSpan(g.ColumnCount), rowStride);

        for (int r = 0; r < g.ColumnRows; r++)
        {
            for (int j = 0; j < rowStride; j++)
            {
                int i = r * rowStride + j;
                bool inBlock = j >= g.ColumnCount && j < 2 * g.ColumnCount;
                float expected = inBlock ? narrow[r * g.ColumnCount + j - g.ColumnCount] : untouched[i];
                Assert.Equal(expected, wide[i]);
            }
        }
    }

    // The block path for same-size geometries must add the same values in the same order as the line path.
    [Theory]
    [InlineData(2, 5, 7, 3, 1, 1)]
    [InlineData(1, 6, 4, 5, 1, 2)]
    [InlineData(3, 8, 6, 3, 2, 1)]
    [InlineData(1, 1, 1, 3, 1, 1)]
    public void AddColumnsToImage_WiderMatrix_BitIdenticalToNarrowOne(
        int channels, int height, int width, int kernel, int stride, int padding)
    {
        var g = new ConvGeometry(channels, height, width, kernel, stride, padding);
        int rowStride = 2 * g.ColumnCount + 3;
        var wide = RandomValues(g.ColumnRows * rowStride, 7);
        var narrow = new float[g.ColumnRows * g.ColumnCount];
        for (int r = 0; r < g.ColumnRows; r++)
        {
            wide.AsSpan(r * rowStride + 2, g.ColumnCount).CopyTo(narrow.AsSpan(r * g.ColumnCount));
        }

        var start = RandomValues(g.ImageLength, 8);
        var expected = (float[])start.Clone();
        var actual = (float[])start.Clone();

        Im2Col.AddColumnsToImage(g, narrow, expected);
        Im2Col.AddColumnsToImage(g, wide.AsSpan(2), actual, rowStride);

        Assert.Equal(expected, actual);
    }

    // "Same" geometries take the summing path (W = 1 leaves some kernel offsets empty, 14×14 is the CNN's second
    // layer), the strided one the clear-then-add fallback. The reference is the narrow, line-by-line col2im.
    [Theory]
    [InlineData(2, 5, 3, 3, 1, 1)]
    [InlineData(3, 14, 14, 3, 1, 1)]
    [InlineData(2, 7, 9, 5, 1, 2)]
    [InlineData(2, 4, 1, 3, 1, 1)]
    [InlineData(3, 6, 5, 1, 1, 0)]
    [InlineData(2, 6, 6, 3, 2, 1)]
    public void ColumnsToImage_AnyGeometry_BitIdenticalToClearThenAdd(
        int channels, int height, int width, int kernel, int stride, int padding)
    {
        var g = new ConvGeometry(channels, height, width, kernel, stride, padding);
        int rowStride = g.ColumnCount + 5;
        var wide = RandomValues(g.ColumnRows * rowStride, 9);

        // Negative zeros and exact cancellations, where an added +0 or a skipped one could show in the bits.
        for (int i = 0; i < wide.Length; i += 7)
        {
            wide[i] = -0f;
        }

        for (int i = 3; i + rowStride < wide.Length; i += 11)
        {
            wide[i + rowStride] = -wide[i];
        }

        var narrow = new float[g.ColumnRows * g.ColumnCount];
        for (int r = 0; r < g.ColumnRows; r++)
        {
            wide.AsSpan(r * rowStride, g.ColumnCount).CopyTo(narrow.AsSpan(r * g.ColumnCount));
        }

        var expected = new float[g.ImageLength];
        var actual = RandomValues(g.ImageLength, 10);

        Im2Col.AddColumnsToImage(g, narrow, expected);
        Im2Col.ColumnsToImage(g, wide, actual, rowStride);

        Assert.Equal(
            expected.Select(BitConverter.SingleToInt32Bits).ToArray(),
            actual.Select(BitConverter.SingleToInt32Bits).ToArray());
    }

    private static float[] RandomValues(int length, ulong seed)
    {
        var random = new DeterministicRandom(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)random.NextGaussian();
        }

        return values;
    }
}
