using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// Copies blocks of A and B into the micro-panel layouts the micro-kernels read with unit stride. All four
/// transpose combinations are resolved here, so one micro-kernel serves every GEMM variant. Operands whose
/// packed direction runs across memory rows (A not transposed, B transposed) are gathered 8×8 at a time with
/// AVX transposes, because a scalar gather there costs as much as a third of a small GEMM; a panel of 4 to 7
/// rows (the AVX2 kernel's 6) takes the same transposes with the missing rows left unstored, which measured
/// 6-15% faster on the MLP's shapes than gathering them one float at a time.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Packs op(A)[ic..ic+mc, pc..pc+kc) as micro-panels of at most MR rows, cut by <see cref="GemmRowTiles"/>:
    /// panel t holds its row r, step p at [t·MR·kc + p·MR + r]. Slots past a panel's height are left
    /// unwritten; kernels never read them.
    /// </summary>
    public static void PackA<TKernel>(in GemmProblem problem, int ic, int mc, int pc, int kc, float* packed)
        where TKernel : struct, IGemmMicroKernel
    {
        int mr = TKernel.RowTile;
        int tiles = GemmRowTiles.Count(mc, mr);
        for (int t = 0; t < tiles; t++)
        {
            int i0 = GemmRowTiles.Start(t, tiles, mc);
            int rows = GemmRowTiles.Start(t + 1, tiles, mc) - i0;
            float* panel = packed + (long)t * mr * kc;
            if (problem.TransposeA == Transpose.No)
            {
                // a: (m, k); op(A)(i, p) = a[i·k + p], so a panel row is a memory row
                float* source = problem.A + (long)(ic + i0) * problem.K + pc;
                Gather<TKernel>(source, problem.K, rows, kc, panel, mr);
            }
            else
            {
                // a: (k, m); op(A)(i, p) = a[p·m + i], so a panel step p is a contiguous run of rows
                float* source = problem.A + (long)pc * problem.M + ic + i0;
                for (int p = 0; p < kc; p++)
                {
                    Copy(source + (long)p * problem.M, panel + p * mr, rows);
                }
            }
        }
    }

    /// <summary>
    /// Packs op(B)[pc..pc+kc, jc..jc+nc) as NR-column micro-panels: panel j holds element (p, c) at
    /// [j·NR·kc + p·NR + c]. Columns past the edge are zero, so the kernel may compute full-width tiles.
    /// </summary>
    public static void PackB<TKernel>(in GemmProblem problem, int jc, int nc, int pc, int kc, float* packed)
        where TKernel : struct, IGemmMicroKernel
    {
        int nr = TKernel.ColumnTile;
        for (int j0 = 0; j0 < nc; j0 += nr)
        {
            int columns = Math.Min(nr, nc - j0);
            float* panel = packed + (long)j0 * kc;
            if (problem.TransposeB == Transpose.No)
            {
                // b: (k, n); op(B)(p, j) = b[p·n + j], so a panel step p is a contiguous run of columns
                float* source = problem.B + (long)pc * problem.N + jc + j0;
                for (int p = 0; p < kc; p++)
                {
                    Copy(source + (long)p * problem.N, panel + p * nr, columns);
                }
            }
            else
            {
                // b: (n, k); op(B)(p, j) = b[j·k + p], so a panel column is a memory row
                float* source = problem.B + (long)(jc + j0) * problem.K + pc;
                Gather<TKernel>(source, problem.K, columns, kc, panel, nr);
            }

            if (columns < nr)
            {
                for (int p = 0; p < kc; p++)
                {
                    new Span<float>(panel + p * nr + columns, nr - columns).Clear();
                }
            }
        }
    }

    // Writes destination[p·destinationStride + r] = source[r·sourceStride + p] for r < count, p < kc.
    private static void Gather<TKernel>(
        float* source,
        int sourceStride,
        int count,
        int kc,
        float* destination,
        int destinationStride)
        where TKernel : struct, IGemmMicroKernel
    {
        int r = 0;
        if (TKernel.UsesVectorPacking && Avx.IsSupported)
        {
            // Blocks of 8 rows, then a last one of 4 to 7 (e.g. the AVX2 kernel's 6-row panels of A), which takes
            // the same transposes with the missing rows read as copies of its last row and not stored.
            int vectorDepth = kc & ~7;
            for (int rows; count - r >= 4; r += rows)
            {
                rows = Math.Min(8, count - r);
                float* from = source + (long)r * sourceStride;
                float* to = destination + r;
                if (rows == 8)
                {
                    for (int p = 0; p < vectorDepth; p += 8)
                    {
                        Transpose8x8(from + p, sourceStride, to + p * destinationStride, destinationStride);
                    }
                }
                else
                {
                    for (int p = 0; p < vectorDepth; p += 8)
                    {
                        TransposeRows(from + p, sourceStride, rows, to + p * destinationStride, destinationStride);
                    }
                }

                for (int p = vectorDepth; p < kc; p++)
                {
                    for (int q = 0; q < rows; q++)
                    {
                        to[p * destinationStride + q] = from[(long)q * sourceStride + p];
                    }
                }
            }
        }

        for (; r < count; r++)
        {
            float* row = source + (long)r * sourceStride;
            for (int p = 0; p < kc; p++)
            {
                destination[p * destinationStride + r] = row[p];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy(float* source, float* destination, int count)
    {
        new ReadOnlySpan<float>(source, count).CopyTo(new Span<float>(destination, count));
    }

    // Stores the first count (4-7) lanes of value, touching no memory past them.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePrefix(float* destination, Vector256<float> value, int count)
    {
        value.GetLower().Store(destination);
        var upper = value.GetUpper();
        if (count >= 6)
        {
            Sse2.StoreLow((double*)(destination + 4), upper.AsDouble());
            if (count == 7)
            {
                destination[6] = upper.GetElement(2);
            }
        }
        else if (count == 5)
        {
            destination[4] = upper.ToScalar();
        }
    }

    /// <summary>Transposes the 8×8 block at source (row stride sourceStride) into destination
    /// (destinationStride). Needs AVX.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(float* source, int sourceStride, float* destination, int destinationStride)
    {
        // Kept apart from TransposeRows: its clamped loads and partial stores cost the full block 30%.
        TransposeBlock(
            Vector256.Load(source),
            Vector256.Load(source + sourceStride),
            Vector256.Load(source + 2L * sourceStride),
            Vector256.Load(source + 3L * sourceStride),
            Vector256.Load(source + 4L * sourceStride),
            Vector256.Load(source + 5L * sourceStride),
            Vector256.Load(source + 6L * sourceStride),
            Vector256.Load(source + 7L * sourceStride),
            out var c0,
            out var c1,
            out var c2,
            out var c3,
            out var c4,
            out var c5,
            out var c6,
            out var c7);
        c0.Store(destination);
        c1.Store(destination + destinationStride);
        c2.Store(destination + 2 * destinationStride);
        c3.Store(destination + 3 * destinationStride);
        c4.Store(destination + 4 * destinationStride);
        c5.Store(destination + 5 * destinationStride);
        c6.Store(destination + 6 * destinationStride);
        c7.Store(destination + 7 * destinationStride);
    }

    // Transposes `rows` (4-7) rows of 8 columns at source into 8 rows of `rows` floats at destination; rows past
    // the last are read as copies of it and not stored, so nothing outside either block is touched.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransposeRows(float* source, int sourceStride, int rows, float* destination, int stride)
    {
        long last = (long)(rows - 1) * sourceStride;
        TransposeBlock(
            Vector256.Load(source),
            Vector256.Load(source + sourceStride),
            Vector256.Load(source + 2L * sourceStride),
            Vector256.Load(source + 3L * sourceStride),
            Vector256.Load(source + Math.Min(4L * sourceStride, last)),
            Vector256.Load(source + Math.Min(5L * sourceStride, last)),
            Vector256.Load(source + Math.Min(6L * sourceStride, last)),
            Vector256.Load(source + last),
            out var c0,
            out var c1,
            out var c2,
            out var c3,
            out var c4,
            out var c5,
            out var c6,
            out var c7);
        StorePrefix(destination, c0, rows);
        StorePrefix(destination + stride, c1, rows);
        StorePrefix(destination + 2 * stride, c2, rows);
        StorePrefix(destination + 3 * stride, c3, rows);
        StorePrefix(destination + 4 * stride, c4, rows);
        StorePrefix(destination + 5 * stride, c5, rows);
        StorePrefix(destination + 6 * stride, c6, rows);
        StorePrefix(destination + 7 * stride, c7, rows);
    }

    // Rows r0..r7 of an 8×8 block in, its columns c0..c7 out. Needs AVX.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransposeBlock(
        Vector256<float> r0,
        Vector256<float> r1,
        Vector256<float> r2,
        Vector256<float> r3,
        Vector256<float> r4,
        Vector256<float> r5,
        Vector256<float> r6,
        Vector256<float> r7,
        out Vector256<float> c0,
        out Vector256<float> c1,
        out Vector256<float> c2,
        out Vector256<float> c3,
        out Vector256<float> c4,
        out Vector256<float> c5,
        out Vector256<float> c6,
        out Vector256<float> c7)
    {
        // Interleave row pairs: t0 = (r0[0], r1[0], r0[1], r1[1] | r0[4], r1[4], r0[5], r1[5]) and so on.
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);

        // Quads: s0 = column 0 of rows 0..3 | column 4 of rows 0..3, s1 = columns 1 | 5, s2 = 2 | 6, s3 = 3 | 7.
        var s0 = Avx.Shuffle(t0, t2, 0x44);
        var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44);
        var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44);
        var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44);
        var s7 = Avx.Shuffle(t5, t7, 0xEE);

        // Join the 128-bit halves of rows 0..3 and rows 4..7.
        c0 = Avx.Permute2x128(s0, s4, 0x20);
        c1 = Avx.Permute2x128(s1, s5, 0x20);
        c2 = Avx.Permute2x128(s2, s6, 0x20);
        c3 = Avx.Permute2x128(s3, s7, 0x20);
        c4 = Avx.Permute2x128(s0, s4, 0x31);
        c5 = Avx.Permute2x128(s1, s5, 0x31);
        c6 = Avx.Permute2x128(s2, s6, 0x31);
        c7 = Avx.Permute2x128(s3, s7, 0x31);
    }
}
