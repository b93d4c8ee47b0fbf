using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// The weight gradient of a convolution with few column rows, such as a first layer on one input channel (9
/// rows): dW[f, r] = Σ over samples, then output positions, in order, of dY[b, f, p]·columns[r, b·P + p].
/// </summary>
/// <remarks>
/// Each element is one fused multiply-add chain, started from 0 or continued from dW: the chain the GEMM
/// computes (<see cref="GemmKernel"/>), so the bits are the GEMM's. The GEMM pads 9 rows to its 14-row tile
/// or 9 columns to 32, and packs both operands; here 8 filters share a vector, the columns are read in place
/// (one broadcast per row and position), and only dY is transposed, one sample at a time. Filters are
/// independent, so callers split them among threads.
/// </remarks>
internal static unsafe class NarrowWeightGradient
{
    /// <summary>Column rows up to which a convolution uses this kernel rather than the GEMM.</summary>
    public const int MaxRows = 32;

    private const int Lanes = 8;

    /// <summary>Whether this machine has the fused multiply-add the GEMM uses; without it, use the GEMM.</summary>
    public static bool IsSupported => Fma.IsSupported && Avx.IsSupported;

    /// <summary>
    /// Computes dW[f, ·] for filters [firstFilter, endFilter) over one block of samples, or adds to it when
    /// <paramref name="accumulate"/> is set (the chain continues through dW, a float store that loses nothing).
    /// </summary>
    /// <param name="outputGradient">dY: (samples, filters, positions).</param>
    /// <param name="columns">(rows, columnStride); sample i's positions at [i·positions, (i + 1)·positions).</param>
    /// <param name="weightGradient">dW: (filters, rows).</param>
    /// <param name="packed">Scratch of at least 8·positions floats.</param>
    /// <param name="rowSums">Empty, or (samples, filters): receives <see cref="OrderedSum.Sum"/> of each row of
    /// dY in the filter range, taken while the row is in L1 (for the bias gradient).</param>
    public static void Accumulate(
        ReadOnlySpan<float> outputGradient,
        int samples,
        int filters,
        int positions,
        ReadOnlySpan<float> columns,
        int rows,
        int columnStride,
        Span<float> weightGradient,
        int firstFilter,
        int endFilter,
        bool accumulate,
        Span<float> packed,
        Span<float> rowSums = default)
    {
        Debug.Assert(IsSupported);
        Debug.Assert(rows is > 0 and <= MaxRows);
        Debug.Assert(outputGradient.Length >= samples * filters * positions);
        Debug.Assert(columns.Length >= (rows - 1) * columnStride + samples * positions);
        Debug.Assert(weightGradient.Length >= filters * rows);
        Debug.Assert(packed.Length >= Lanes * positions);

        // acc: (rows, 8), the chains of one group of 8 filters, kept here between samples.
        float* acc = stackalloc float[MaxRows * Lanes];
        fixed (float* dy = outputGradient, x = columns, dw = weightGradient, pack = packed)
        {
            for (int f = firstFilter; f < endFilter; f += Lanes)
            {
                int count = Math.Min(Lanes, endFilter - f);
                for (int r = 0; r < rows; r++)
                {
                    for (int j = 0; j < Lanes; j++)
                    {
                        acc[r * Lanes + j] = accumulate && j < count ? dw[(f + j) * rows + r] : 0f;
                    }
                }

                for (int b = 0; b < samples; b++)
                {
                    if (!rowSums.IsEmpty)
                    {
                        for (int j = 0; j < count; j++)
                        {
                            var row = outputGradient.Slice((b * filters + f + j) * positions, positions);
                            rowSums[b * filters + f + j] = OrderedSum.Sum(row);
                        }
                    }

                    Pack(dy + ((long)b * filters + f) * positions, positions, count, pack);
                    float* sample = x + (long)b * positions;

                    // Chunks of at most 8 rows, of sizes differing by at most one.
                    int chunks = (rows + Lanes - 1) / Lanes;
                    for (int c = 0; c < chunks; c++)
                    {
                        int first = rows * c / chunks;
                        int end = rows * (c + 1) / chunks;
                        float* chunkColumns = sample + (long)first * columnStride;
                        Chunk(end - first, pack, chunkColumns, columnStride, positions, acc + first * Lanes);
                    }
                }

                for (int r = 0; r < rows; r++)
                {
                    for (int j = 0; j < count; j++)
                    {
                        dw[(f + j) * rows + r] = acc[r * Lanes + j];
                    }
                }
            }
        }
    }

    /// <summary>
    /// Plain scalar version with the same fused chains: the test oracle.
    /// </summary>
    public static void AccumulateReference(
        ReadOnlySpan<float> outputGradient,
        int samples,
        int filters,
        int positions,
        ReadOnlySpan<float> columns,
        int rows,
        int columnStride,
        Span<float> weightGradient,
        int firstFilter,
        int endFilter,
        bool accumulate)
    {
        for (int f = firstFilter; f < endFilter; f++)
        {
            for (int r = 0; r < rows; r++)
            {
                float sum = accumulate ? weightGradient[f * rows + r] : 0f;
                for (int b = 0; b < samples; b++)
                {
                    for (int p = 0; p < positions; p++)
                    {
                        float g = outputGradient[(b * filters + f) * positions + p];
                        sum = MathF.FusedMultiplyAdd(g, columns[r * columnStride + b * positions + p], sum);
                    }
                }

                weightGradient[f * rows + r] = sum;
            }
        }
    }

    // dy: `count` rows of dY (row stride positions) → packed[p·8 + j] = dy[j·positions + p], zeros for j ≥ count.
    private static void Pack(float* dy, int positions, int count, float* packed)
    {
        int p = 0;
        if (count == Lanes)
        {
            for (; p + Lanes <= positions; p += Lanes)
            {
                GemmPacking.Transpose8x8(dy + p, positions, packed + p * Lanes, Lanes);
            }
        }

        for (; p < positions; p++)
        {
            for (int j = 0; j < Lanes; j++)
            {
                packed[p * Lanes + j] = j < count ? dy[(long)j * positions + p] : 0f;
            }
        }
    }

    private static void Chunk(int rows, float* packed, float* columns, int stride, int positions, float* acc)
    {
        switch (rows)
        {
            case 1:
                Chunk<Rows1>(packed, columns, stride, positions, acc);
                break;
            case 2:
                Chunk<Rows2>(packed, columns, stride, positions, acc);
                break;
            case 3:
                Chunk<Rows3>(packed, columns, stride, positions, acc);
                break;
            case 4:
                Chunk<Rows4>(packed, columns, stride, positions, acc);
                break;
            case 5:
                Chunk<Rows5>(packed, columns, stride, positions, acc);
                break;
            case 6:
                Chunk<Rows6>(packed, columns, stride, positions, acc);
                break;
            case 7:
                Chunk<Rows7>(packed, columns, stride, positions, acc);
                break;
            default:
                Chunk<Rows8>(packed, columns, stride, positions, acc);
                break;
        }
    }

    // Up to 8 rows × 8 filters of chains in registers; per position one vector of dY and one broadcast per row.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Chunk<TRows>(float* packed, float* columns, int stride, int positions, float* acc)
        where TRows : struct, IGemmRowCount
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<float> a4 = default, a5 = default, a6 = default, a7 = default;
        float* x0 = columns;
        float* x1 = columns + stride;
        float* x2 = columns + 2L * stride;
        float* x3 = columns + 3L * stride;
        float* x4 = columns + 4L * stride;
        float* x5 = columns + 5L * stride;
        float* x6 = columns + 6L * stride;
        float* x7 = columns + 7L * stride;
        Load<TRows>(acc, ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);

        for (int p = 0; p < positions; p++)
        {
            var g = Vector256.Load(packed + p * Lanes);
            if (TRows.Count > 0)
            {
                a0 = Fma.MultiplyAdd(g, Vector256.Create(x0[p]), a0);
            }

            if (TRows.Count > 1)
            {
                a1 = Fma.MultiplyAdd(g, Vector256.Create(x1[p]), a1);
            }

            if (TRows.Count > 2)
            {
                a2 = Fma.MultiplyAdd(g, Vector256.Create(x2[p]), a2);
            }

            if (TRows.Count > 3)
            {
                a3 = Fma.MultiplyAdd(g, Vector256.Create(x3[p]), a3);
            }

            if (TRows.Count > 4)
            {
                a4 = Fma.MultiplyAdd(g, Vector256.Create(x4[p]), a4);
            }

            if (TRows.Count > 5)
            {
                a5 = Fma.MultiplyAdd(g, Vector256.Create(x5[p]), a5);
            }

            if (TRows.Count > 6)
            {
                a6 = Fma.MultiplyAdd(g, Vector256.Create(x6[p]), a6);
            }

            if (TRows.Count > 7)
            {
                a7 = Fma.MultiplyAdd(g, Vector256.Create(x7[p]), a7);
            }
        }

        Store<TRows>(acc, a0, a1, a2, a3, a4, a5, a6, a7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Load<TRows>(
        float* acc,
        ref Vector256<float> a0,
        ref Vector256<float> a1,
        ref Vector256<float> a2,
        ref Vector256<float> a3,
        ref Vector256<float> a4,
        ref Vector256<float> a5,
        ref Vector256<float> a6,
        ref Vector256<float> a7)
        where TRows : struct, IGemmRowCount
    {
        a0 = TRows.Count > 0 ? Vector256.Load(acc) : a0;
        a1 = TRows.Count > 1 ? Vector256.Load(acc + Lanes) : a1;
        a2 = TRows.Count > 2 ? Vector256.Load(acc + 2 * Lanes) : a2;
        a3 = TRows.Count > 3 ? Vector256.Load(acc + 3 * Lanes) : a3;
        a4 = TRows.Count > 4 ? Vector256.Load(acc + 4 * Lanes) : a4;
        a5 = TRows.Count > 5 ? Vector256.Load(acc + 5 * Lanes) : a5;
        a6 = TRows.Count > 6 ? Vector256.Load(acc + 6 * Lanes) : a6;
        a7 = TRows.Count > 7 ? Vector256.Load(acc + 7 * Lanes) : a7;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TRows>(
        float* acc,
        Vector256<float> a0,
        Vector256<float> a1,
        Vector256<float> a2,
        Vector256<float> a3,
        Vector256<float> a4,
        Vector256<float> a5,
        Vector256<float> a6,
        Vector256<float> a7)
        where TRows : struct, IGemmRowCount
    {
        if (TRows.Count > 0)
        {
            a0.Store(acc);
        }

        if (TRows.Count > 1)
        {
            a1.Store(acc + Lanes);
        }

        if (TRows.Count > 2)
        {
            a2.Store(acc + 2 * Lanes);
        }

        if (TRows.Count > 3)
        {
            a3.Store(acc + 3 * Lanes);
        }

        if (TRows.Count > 4)
        {
            a4.Store(acc + 4 * Lanes);
        }

        if (TRows.Count > 5)
        {
            a5.Store(acc + 5 * Lanes);
        }

        if (TRows.Count > 6)
        {
            a6.Store(acc + 6 * Lanes);
        }

        if (TRows.Count > 7)
        {
            a7.Store(acc + 7 * Lanes);
        }
    }
}
