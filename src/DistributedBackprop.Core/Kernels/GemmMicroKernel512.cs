using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// AVX-512 micro-kernel: a tile of up to 14 rows × 32 columns of C held in 28 zmm accumulators. Per step
/// of k it loads two vectors of B and broadcasts one A value per row, so 28 FMAs share 16 loads; with two
/// B vectors and one broadcast live, 31 of the 32 vector registers are in use.
/// </summary>
internal readonly struct GemmMicroKernel512 : IGemmMicroKernel
{
    private const int Mr = 14;
    private const int Nr = 32;

    public static int RowTile => Mr;

    public static int ColumnTile => Nr;

    // KC 256: each KC slice loads and stores all of C once, so deeper slices save C traffic, up to where a
    // B micro-panel (256 × 32 floats, 32 KiB) and an A micro-panel (14 KiB) still share the 48 KiB L1.
    // MC 112: a packed A block (112 × 256, 112 KiB) sits in L2 beside the B block. With these blocks and the
    // driver's C prefetch, 1024³ on one thread went from about 55% to 70% of the FMA peak (KC 128, MC 336).
    public static int DepthBlock => 256;

    public static int RowBlock => Mr * 8;

    public static bool UsesVectorPacking => true;

    // NC 1024: a packed B block (256 × 1024, 1 MiB) plus an A block fits the 2 MiB L2.
    public static int ColumnBlock => Nr * 32;

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
            case 7:
                Tile<Rows7>(packedA, b, ldb, kc, c, ldc, loadC);
                break;
            case 8:
                Tile<Rows8>(packedA, b, ldb, kc, c, ldc, loadC);
                break;
            case 9:
                Tile<Rows9>(packedA, b, ldb, kc, c, ldc, loadC);
                break;
            case 10:
                Tile<Rows10>(packedA, b, ldb, kc, c, ldc, loadC);
                break;
            case 11:
                Tile<Rows11>(packedA, b, ldb, kc, c, ldc, loadC);
                break;
            case 12:
                Tile<Rows12>(packedA, b, ldb, kc, c, ldc, loadC);
                break;
            case 13:
                Tile<Rows13>(packedA, b, ldb, kc, c, ldc, loadC);
                break;
            case 14:
                Tile<Rows14>(packedA, b, ldb, kc, c, ldc, loadC);
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
        // accumulators: row r of the tile in (cRRa, cRRb), columns 0..15 and 16..31
        Vector512<float> c00a = default, c00b = default;
        Vector512<float> c01a = default, c01b = default;
        Vector512<float> c02a = default, c02b = default;
        Vector512<float> c03a = default, c03b = default;
        Vector512<float> c04a = default, c04b = default;
        Vector512<float> c05a = default, c05b = default;
        Vector512<float> c06a = default, c06b = default;
        Vector512<float> c07a = default, c07b = default;
        Vector512<float> c08a = default, c08b = default;
        Vector512<float> c09a = default, c09b = default;
        Vector512<float> c10a = default, c10b = default;
        Vector512<float> c11a = default, c11b = default;
        Vector512<float> c12a = default, c12b = default;
        Vector512<float> c13a = default, c13b = default;

        if (loadC)
        {
            if (TRows.Count > 0)
            {
                c00a = Vector512.Load(c + 0 * ldc);
                c00b = Vector512.Load(c + 0 * ldc + 16);
            }

            if (TRows.Count > 1)
            {
                c01a = Vector512.Load(c + 1 * ldc);
                c01b = Vector512.Load(c + 1 * ldc + 16);
            }

            if (TRows.Count > 2)
            {
                c02a = Vector512.Load(c + 2 * ldc);
                c02b = Vector512.Load(c + 2 * ldc + 16);
            }

            if (TRows.Count > 3)
            {
                c03a = Vector512.Load(c + 3 * ldc);
                c03b = Vector512.Load(c + 3 * ldc + 16);
            }

            if (TRows.Count > 4)
            {
                c04a = Vector512.Load(c + 4 * ldc);
                c04b = Vector512.Load(c + 4 * ldc + 16);
            }

            if (TRows.Count > 5)
            {
                c05a = Vector512.Load(c + 5 * ldc);
                c05b = Vector512.Load(c + 5 * ldc + 16);
            }

            if (TRows.Count > 6)
            {
                c06a = Vector512.Load(c + 6 * ldc);
                c06b = Vector512.Load(c + 6 * ldc + 16);
            }

            if (TRows.Count > 7)
            {
                c07a = Vector512.Load(c + 7 * ldc);
                c07b = Vector512.Load(c + 7 * ldc + 16);
            }

            if (TRows.Count > 8)
            {
                c08a = Vector512.Load(c + 8 * ldc);
                c08b = Vector512.Load(c + 8 * ldc + 16);
            }

            if (TRows.Count > 9)
            {
                c09a = Vector512.Load(c + 9 * ldc);
                c09b = Vector512.Load(c + 9 * ldc + 16);
            }

            if (TRows.Count > 10)
            {
                c10a = Vector512.Load(c + 10 * ldc);
                c10b = Vector512.Load(c + 10 * ldc + 16);
            }

            if (TRows.Count > 11)
            {
                c11a = Vector512.Load(c + 11 * ldc);
                c11b = Vector512.Load(c + 11 * ldc + 16);
            }

            if (TRows.Count > 12)
            {
                c12a = Vector512.Load(c + 12 * ldc);
                c12b = Vector512.Load(c + 12 * ldc + 16);
            }

            if (TRows.Count > 13)
            {
                c13a = Vector512.Load(c + 13 * ldc);
                c13b = Vector512.Load(c + 13 * ldc + 16);
            }
        }

        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            Vector512<float> a;

            if (TRows.Count > 0)
            {
                a = Vector512.Create(packedA[0]);
                c00a = Vector512.FusedMultiplyAdd(a, b0, c00a);
                c00b = Vector512.FusedMultiplyAdd(a, b1, c00b);
            }

            if (TRows.Count > 1)
            {
                a = Vector512.Create(packedA[1]);
                c01a = Vector512.FusedMultiplyAdd(a, b0, c01a);
                c01b = Vector512.FusedMultiplyAdd(a, b1, c01b);
            }

            if (TRows.Count > 2)
            {
                a = Vector512.Create(packedA[2]);
                c02a = Vector512.FusedMultiplyAdd(a, b0, c02a);
                c02b = Vector512.FusedMultiplyAdd(a, b1, c02b);
            }

            if (TRows.Count > 3)
            {
                a = Vector512.Create(packedA[3]);
                c03a = Vector512.FusedMultiplyAdd(a, b0, c03a);
                c03b = Vector512.FusedMultiplyAdd(a, b1, c03b);
            }

            if (TRows.Count > 4)
            {
                a = Vector512.Create(packedA[4]);
                c04a = Vector512.FusedMultiplyAdd(a, b0, c04a);
                c04b = Vector512.FusedMultiplyAdd(a, b1, c04b);
            }

            if (TRows.Count > 5)
            {
                a = Vector512.Create(packedA[5]);
                c05a = Vector512.FusedMultiplyAdd(a, b0, c05a);
                c05b = Vector512.FusedMultiplyAdd(a, b1, c05b);
            }

            if (TRows.Count > 6)
            {
                a = Vector512.Create(packedA[6]);
                c06a = Vector512.FusedMultiplyAdd(a, b0, c06a);
                c06b = Vector512.FusedMultiplyAdd(a, b1, c06b);
            }

            if (TRows.Count > 7)
            {
                a = Vector512.Create(packedA[7]);
                c07a = Vector512.FusedMultiplyAdd(a, b0, c07a);
                c07b = Vector512.FusedMultiplyAdd(a, b1, c07b);
            }

            if (TRows.Count > 8)
            {
                a = Vector512.Create(packedA[8]);
                c08a = Vector512.FusedMultiplyAdd(a, b0, c08a);
                c08b = Vector512.FusedMultiplyAdd(a, b1, c08b);
            }

            if (TRows.Count > 9)
            {
                a = Vector512.Create(packedA[9]);
                c09a = Vector512.FusedMultiplyAdd(a, b0, c09a);
                c09b = Vector512.FusedMultiplyAdd(a, b1, c09b);
            }

            if (TRows.Count > 10)
            {
                a = Vector512.Create(packedA[10]);
                c10a = Vector512.FusedMultiplyAdd(a, b0, c10a);
                c10b = Vector512.FusedMultiplyAdd(a, b1, c10b);
            }

            if (TRows.Count > 11)
            {
                a = Vector512.Create(packedA[11]);
                c11a = Vector512.FusedMultiplyAdd(a, b0, c11a);
                c11b = Vector512.FusedMultiplyAdd(a, b1, c11b);
            }

            if (TRows.Count > 12)
            {
                a = Vector512.Create(packedA[12]);
                c12a = Vector512.FusedMultiplyAdd(a, b0, c12a);
                c12b = Vector512.FusedMultiplyAdd(a, b1, c12b);
            }

            if (TRows.Count > 13)
            {
                a = Vector512.Create(packedA[13]);
                c13a = Vector512.FusedMultiplyAdd(a, b0, c13a);
                c13b = Vector512.FusedMultiplyAdd(a, b1, c13b);
            }

            packedA += Mr;
            b += ldb;
        }

        if (TRows.Count > 0)
        {
            c00a.Store(c + 0 * ldc);
            c00b.Store(c + 0 * ldc + 16);
        }

        if (TRows.Count > 1)
        {
            c01a.Store(c + 1 * ldc);
            c01b.Store(c + 1 * ldc + 16);
        }

        if (TRows.Count > 2)
        {
            c02a.Store(c + 2 * ldc);
            c02b.Store(c + 2 * ldc + 16);
        }

        if (TRows.Count > 3)
        {
            c03a.Store(c + 3 * ldc);
            c03b.Store(c + 3 * ldc + 16);
        }

        if (TRows.Count > 4)
        {
            c04a.Store(c + 4 * ldc);
            c04b.Store(c + 4 * ldc + 16);
        }

        if (TRows.Count > 5)
        {
            c05a.Store(c + 5 * ldc);
            c05b.Store(c + 5 * ldc + 16);
        }

        if (TRows.Count > 6)
        {
            c06a.Store(c + 6 * ldc);
            c06b.Store(c + 6 * ldc + 16);
        }

        if (TRows.Count > 7)
        {
            c07a.Store(c + 7 * ldc);
            c07b.Store(c + 7 * ldc + 16);
        }

        if (TRows.Count > 8)
        {
            c08a.Store(c + 8 * ldc);
            c08b.Store(c + 8 * ldc + 16);
        }

        if (TRows.Count > 9)
        {
            c09a.Store(c + 9 * ldc);
            c09b.Store(c + 9 * ldc + 16);
        }

        if (TRows.Count > 10)
        {
            c10a.Store(c + 10 * ldc);
            c10b.Store(c + 10 * ldc + 16);
        }

        if (TRows.Count > 11)
        {
            c11a.Store(c + 11 * ldc);
            c11b.Store(c + 11 * ldc + 16);
        }

        if (TRows.Count > 12)
        {
            c12a.Store(c + 12 * ldc);
            c12b.Store(c + 12 * ldc + 16);
        }

        if (TRows.Count > 13)
        {
            c13a.Store(c + 13 * ldc);
            c13b.Store(c + 13 * ldc + 16);
        }
    }
}
