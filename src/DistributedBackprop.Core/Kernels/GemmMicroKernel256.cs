using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// AVX2 + FMA micro-kernel: a tile of up to 6 rows × 16 columns of C in 12 ymm accumulators, leaving two
/// registers for B and one for the broadcast A value out of the 16 available.
/// </summary>
internal readonly struct GemmMicroKernel256 : IGemmMicroKernel
{
    private const int Mr = 6;
    private const int Nr = 16;

    public static int RowTile => Mr;

    public static int ColumnTile => Nr;

    public static int DepthBlock => 256;

    public static int RowBlock => Mr * 24;

    public static bool UsesVectorPacking => true;

    public static int ColumnBlock => Nr * 128;

    public static unsafe void Run(
        int rows,
        float* packedA,
        float* b,
        int ldb,
        int kc,
        float* c,
        int ldc,
        bool loadC)
    {
        switch (rows)
        {
            case 1:
                Tile<Rows1>(packedA, b, ldb, kc, c, ldc, loadC);
                break;
            case 2:
                Tile<Rows2>(packedA, b, ldb, kc, c, ldc, loadC);
                break;
            case 3:
                Tile<Rows3>(packedA, b, ldb, kc, c, ldc, loadC);
                break;
            case 4:
                Tile<Rows4>(packedA, b, ldb, kc, c, ldc, loadC);
                break;
            case 5:
                Tile<Rows5>(packedA, b, ldb, kc, c, ldc, loadC);
                break;
            case 6:
                Tile<Rows6>(packedA, b, ldb, kc, c, ldc, loadC);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(rows), rows, $"Tile rows must be 1..{Mr}.");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile<TRows>(
        float* packedA,
        float* b,
        int ldb,
        int kc,
        float* c,
        int ldc,
        bool loadC)
        where TRows : struct, IGemmRowCount
    {
        // accumulators: row r of the tile in (cRa, cRb), columns 0..7 and 8..15
        Vector256<float> c0a = default, c0b = default;
        Vector256<float> c1a = default, c1b = default;
        Vector256<float> c2a = default, c2b = default;
        Vector256<float> c3a = default, c3b = default;
        Vector256<float> c4a = default, c4b = default;
        Vector256<float> c5a = default, c5b = default;

        if (loadC)
        {
            if (TRows.Count > 0)
            {
                c0a = Vector256.Load(c + 0 * ldc);
                c0b = Vector256.Load(c + 0 * ldc + 8);
            }

            if (TRows.Count > 1)
            {
                c1a = Vector256.Load(c + 1 * ldc);
                c1b = Vector256.Load(c + 1 * ldc + 8);
            }

            if (TRows.Count > 2)
            {
                c2a = Vector256.Load(c + 2 * ldc);
                c2b = Vector256.Load(c + 2 * ldc + 8);
            }

            if (TRows.Count > 3)
            {
                c3a = Vector256.Load(c + 3 * ldc);
                c3b = Vector256.Load(c + 3 * ldc + 8);
            }

            if (TRows.Count > 4)
            {
                c4a = Vector256.Load(c + 4 * ldc);
                c4b = Vector256.Load(c + 4 * ldc + 8);
            }

            if (TRows.Count > 5)
            {
                c5a = Vector256.Load(c + 5 * ldc);
                c5b = Vector256.Load(c + 5 * ldc + 8);
            }
        }

        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            Vector256<float> a;

            if (TRows.Count > 0)
            {
                a = Vector256.Create(packedA[0]);
                c0a = Vector256.FusedMultiplyAdd(a, b0, c0a);
                c0b = Vector256.FusedMultiplyAdd(a, b1, c0b);
            }

            if (TRows.Count > 1)
            {
                a = Vector256.Create(packedA[1]);
                c1a = Vector256.FusedMultiplyAdd(a, b0, c1a);
                c1b = Vector256.FusedMultiplyAdd(a, b1, c1b);
            }

            if (TRows.Count > 2)
            {
                a = Vector256.Create(packedA[2]);
                c2a = Vector256.FusedMultiplyAdd(a, b0, c2a);
                c2b = Vector256.FusedMultiplyAdd(a, b1, c2b);
            }

            if (TRows.Count > 3)
            {
                a = Vector256.Create(packedA[3]);
                c3a = Vector256.FusedMultiplyAdd(a, b0, c3a);
                c3b = Vector256.FusedMultiplyAdd(a, b1, c3b);
            }

            if (TRows.Count > 4)
            {
                a = Vector256.Create(packedA[4]);
                c4a = Vector256.FusedMultiplyAdd(a, b0, c4a);
                c4b = Vector256.FusedMultiplyAdd(a, b1, c4b);
            }

            if (TRows.Count > 5)
            {
                a = Vector256.Create(packedA[5]);
                c5a = Vector256.FusedMultiplyAdd(a, b0, c5a);
                c5b = Vector256.FusedMultiplyAdd(a, b1, c5b);
            }

            packedA += Mr;
            b += ldb;
        }

        if (TRows.Count > 0)
        {
            c0a.Store(c + 0 * ldc);
            c0b.Store(c + 0 * ldc + 8);
        }

        if (TRows.Count > 1)
        {
            c1a.Store(c + 1 * ldc);
            c1b.Store(c + 1 * ldc + 8);
        }

        if (TRows.Count > 2)
        {
            c2a.Store(c + 2 * ldc);
            c2b.Store(c + 2 * ldc + 8);
        }

        if (TRows.Count > 3)
        {
            c3a.Store(c + 3 * ldc);
            c3b.Store(c + 3 * ldc + 8);
        }

        if (TRows.Count > 4)
        {
            c4a.Store(c + 4 * ldc);
            c4b.Store(c + 4 * ldc + 8);
        }

        if (TRows.Count > 5)
        {
            c5a.Store(c + 5 * ldc);
            c5b.Store(c + 5 * ldc + 8);
        }
    }
}
