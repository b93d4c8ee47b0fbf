using DistributedBackprop.Core.Kernels;
using DistributedBackprop.Core.Tests.Layers;

namespace DistributedBackprop.Core.Tests.Kernels;

public sealed class NarrowWeightGradientTests
{
    // (filters, rows, positions, samples): whole and partial groups of 8 filters, every row-chunk size, positions
    // with and without a tail after the 8×8 transposes.
    public static TheoryData<int, int, int, int> Shapes => new()
    {
        { 8, 9, 784, 2 },
        { 16, 1, 16, 3 },
        { 13, 7, 23, 2 },
        { 3, 27, 9, 4 },
        { 24, 32, 41, 1 },
        { 32, 17, 196, 3 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Accumulate_AnyShape_MatchesFusedScalarChainsBitForBit(
        int filters,
        int rows,
        int positions,
        int samples)
    {
        if (!NarrowWeightGradient.IsSupported)
        {
            return; // Conv2D keeps the GEMM on machines without FMA.
        }

        var (dy, columns, stride) = Operands(filters, rows, positions, samples);
        var expected = LayerHarness.RandomTensor(5, filters * rows).Span.ToArray();
        var actual = expected.ToArray();

        // Two blocks of samples in turn, the second continuing the chains (as Conv2D's groups do), over a filter
        // range that leaves the first filter out.
        foreach (bool accumulate in new[] { false, true })
        {
            NarrowWeightGradient.AccumulateReference(
                dy, samples, filters, positions, columns, rows, stride, expected, 1, filters, accumulate);
            NarrowWeightGradient.Accumulate(
                dy, samples, filters, positions, columns, rows, stride, actual, 1, filters, accumulate,
                new float[8 * positions]);
        }

        Assert.Equal(Bits(expected), Bits(actual));
    }

    // The kernel replaces the GEMM in Conv2D's weight gradient: it must give the GEMM's bits, dY·columnsᵀ.
    [Theory]
    [MemberData(nameof(Shapes))]
    public void Accumulate_AnyShape_MatchesTheGemmBitForBit(
        int filters,
        int rows,
        int positions,
        int samples)
    {
        if (!NarrowWeightGradient.IsSupported)
        {
            return; // Conv2D keeps the GEMM on machines without FMA.
        }

        var (dy, columns, stride) = Operands(filters, rows, positions, samples);
        int width = samples * positions;

        // dY in the GEMM's layout: (filters, samples·positions).
        var filterMajor = new float[filters * width];
        for (int b = 0; b < samples; b++)
        {
            for (int f = 0; f < filters; f++)
            {
                dy.AsSpan((b * filters + f) * positions, positions)
                    .CopyTo(filterMajor.AsSpan(f * width + b * positions));
            }
        }

        var gemm = new float[filters * rows];
        var packed = Packed(columns, rows, stride, width);
        Gemm.Multiply(Transpose.No, Transpose.Yes, filters, rows, width, filterMajor, packed, gemm);
        var narrow = new float[filters * rows];
        NarrowWeightGradient.Accumulate(
            dy, samples, filters, positions, columns, rows, stride, narrow, 0, filters, accumulate: false,
            new float[8 * positions]);

        Assert.Equal(Bits(gemm), Bits(narrow));
    }

    // Columns with a row stride wider than the block, as a group's slot in Conv2D may be.
    private static (float[] Dy, float[] Columns, int Stride) Operands(
        int filters,
        int rows,
        int positions,
        int samples)
    {
        int stride = samples * positions + 5;
        var dy = LayerHarness.RandomTensor(3, samples * filters * positions).Span.ToArray();
        var columns = LayerHarness.RandomTensor(4, rows * stride).Span.ToArray();
        return (dy, columns, stride);
    }

    private static float[] Packed(float[] columns, int rows, int stride, int width)
    {
        var packed = new float[rows * width];
        for (int r = 0; r < rows; r++)
        {
            columns.AsSpan(r * stride, width).CopyTo(packed.AsSpan(r * width));
        }

        return packed;
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
