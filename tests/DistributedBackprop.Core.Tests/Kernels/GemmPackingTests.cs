using DistributedBackprop.Core.Kernels;

namespace DistributedBackprop.Core.Tests.Kernels;

public sealed unsafe class GemmPackingTests
{
    // Panels of 1 to 8 rows over depths with and without a remainder past the last 8-column transpose.
    public static TheoryData<int, int> RowsAndDepths()
    {
        var data = new TheoryData<int, int>();
        foreach (int rows in new[] { 1, 3, 4, 5, 6, 7, 8 })
        {
            foreach (int depth in new[] { 8, 21, 64 })
            {
                data.Add(rows, depth);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RowsAndDepths))]
    public void PackA_NotTransposed_PlacesEveryElementAndNothingPastThePanel(int rows, int depth)
    {
        // A of rows × (depth + 3), packed from column 2, so the gather reads a stride wider than the panel.
        int k = depth + 3;
        var a = Enumerable.Range(0, rows * k).Select(i => (float)i).ToArray();
        const float untouched = -1f;
        var packed = Enumerable.Repeat(untouched, 8 * depth + 16).ToArray();

        fixed (float* pa = a, pp = packed)
        {
            var problem = new GemmProblem(Transpose.No, Transpose.No, rows, 1, k, pa, null, null, false);
            GemmPacking.PackA<GemmMicroKernel8Rows>(problem, 0, rows, 2, depth, pp);
        }

        for (int p = 0; p < depth; p++)
        {
            for (int r = 0; r < 8; r++)
            {
                float expected = r < rows ? a[r * k + 2 + p] : untouched;
                Assert.Equal(expected, packed[p * 8 + r]);
            }
        }

        Assert.All(packed[(8 * depth)..], value => Assert.Equal(untouched, value));
    }

    // The AVX2 kernel with 8-row panels, so that every panel height from 1 to 8 is one panel.
    private readonly struct GemmMicroKernel8Rows : IGemmMicroKernel
    {
        public static int RowTile => 8;

        public static int ColumnTile => GemmMicroKernel256.ColumnTile;

        public static int DepthBlock => GemmMicroKernel256.DepthBlock;

        public static int RowBlock => 8;

        public static int ColumnBlock => GemmMicroKernel256.ColumnBlock;

        public static bool UsesVectorPacking => true;

        public static void Run(int rows, float* packedA, float* b, int ldb, int kc, float* c, int ldc, bool loadC) =>
            throw new NotSupportedException("Packing only.");
    }
}
