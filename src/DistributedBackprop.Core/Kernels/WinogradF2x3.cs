using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// The transforms of Winograd's minimal filtering F(2×2, 3×3) for 3×3 convolutions with stride 1: each 2×2 block
/// of output (a tile) comes from a 4×4 block of input, and the 36 multiplies per tile and channel pair of the
/// direct method become 16, one per transformed position ξ. With d a 4×4 input block, g a 3×3 filter and y the
/// 2×2 output block:
/// <code>
///   V = Bᵀ d B,   U = G g Gᵀ,   y = Aᵀ [Σ over channels of U ⊙ V] A
///   Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
///   G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]   Aᵀ = [1 1 1 0; 0 1 -1 -1]
/// </code>
/// so the channel sums are 16 independent GEMMs, M_ξ (filters × tiles) = U_ξ (filters × channels) ·
/// V_ξ (channels × tiles). Backward uses the adjoints: dM = A dY Aᵀ per tile, dU_ξ = dM_ξ · V_ξᵀ (then
/// dW = Gᵀ dU G), and dV_ξ = U_ξᵀ · dM_ξ (then dX gets B dV Bᵀ added at each tile's 4×4 input block).
/// </summary>
/// <remarks>
/// Layouts: U and dU are (16, filters, channels); V and dV are (16, channels, tiles) and M and dM (16, filters,
/// tiles), where a group of samples' tiles are numbered (sample, tile row, tile column) and <c>tiles</c> is the
/// group's tile count (the matrices' row length). Tile (ty, tx) covers output rows 2ty, 2ty+1 and columns 2tx,
/// 2tx+1, and input rows 2ty−p … 2ty−p+3 (zero outside the image), likewise columns. A tile row's tiles are
/// processed 8 at a time in Vector256 lanes; to keep whole-vector stores, a transform may write lanes past the
/// tiles or columns it owns as long as they stay inside the same matrix row (or, for the output, the same
/// image), where the same pass or the next image's transform writes them afterwards: a group's images are
/// transformed in tile order. Reads may run 8 floats past a matrix's end, so buffers carry 8 spare floats.
/// Every sum is written out in one fixed order, so results do not depend on threads or grouping. Needs AVX2
/// (<see cref="IsSupported"/>).
/// </remarks>
internal static class WinogradF2x3
{
    /// <summary>Transformed positions per tile.</summary>
    public const int Positions = 16;

    private const int Lanes = 8;

    public static bool IsSupported => Avx2.IsSupported;

    /// <summary>Whether this convolution can run as F(2×2, 3×3): a 3×3 kernel at stride 1.</summary>
    public static bool Applies(ConvGeometry geometry) =>
        IsSupported && geometry.Kernel == 3 && geometry.Stride == 1;

    public static int TileRows(ConvGeometry geometry) => (geometry.OutHeight + 1) / 2;

    public static int TileColumns(ConvGeometry geometry) => (geometry.OutWidth + 1) / 2;

    public static int TilesPerImage(ConvGeometry geometry) => TileRows(geometry) * TileColumns(geometry);

    /// <summary>Floats of scratch the per-image transforms need (<paramref name="scratch"/> arguments).</summary>
    public static int ScratchLength(ConvGeometry geometry)
    {
        int padded = PaddedLength(geometry);
        int paddedRows = 2 * TileRows(geometry) + 2;

        // The input transform's row transforms (4 per padded row) and one deinterleaved row (2), or the input
        // gradient's accumulators (2 per padded row) and one interleaved row (2).
        // A padded source line (2 per padded length) for the deinterleaving transforms.
        return Math.Max(paddedRows * 4 * padded + 4 * padded, paddedRows * 2 * padded + 2 * padded);
    }

    /// <summary>U = G g Gᵀ for every (filter, channel): weight (filters, channels, 3, 3) → u (16, filters,
    /// channels).</summary>
    public static void TransformWeights(ReadOnlySpan<float> weight, int filters, int channels, Span<float> u)
    {
        int pairs = filters * channels;
        Span<float> h = stackalloc float[12];
        for (int pair = 0; pair < pairs; pair++)
        {
            var g = weight.Slice(pair * 9, 9);

            // h = G g (4×3): down each column b.
            for (int b = 0; b < 3; b++)
            {
                float g0 = g[b], g1 = g[3 + b], g2 = g[6 + b];
                h[b] = g0;
                h[3 + b] = 0.5f * (g0 + g1 + g2);
                h[6 + b] = 0.5f * (g0 - g1 + g2);
                h[9 + b] = g2;
            }

            // U = h Gᵀ (4×4): along each row i.
            for (int i = 0; i < 4; i++)
            {
                float h0 = h[i * 3], h1 = h[i * 3 + 1], h2 = h[i * 3 + 2];
                u[((i * 4) * pairs) + pair] = h0;
                u[((i * 4 + 1) * pairs) + pair] = 0.5f * (h0 + h1 + h2);
                u[((i * 4 + 2) * pairs) + pair] = 0.5f * (h0 - h1 + h2);
                u[((i * 4 + 3) * pairs) + pair] = h2;
            }
        }
    }

    /// <summary>dW = Gᵀ dU G for every (filter, channel): du (16, filters, channels) → weightGradient (filters,
    /// channels, 3, 3), overwritten.</summary>
    public static void WeightGradient(ReadOnlySpan<float> du, int filters, int channels, Span<float> weightGradient)
    {
        int pairs = filters * channels;
        Span<float> t = stackalloc float[12];
        for (int pair = 0; pair < pairs; pair++)
        {
            // t = Gᵀ dU (3×4): down each column j.
            for (int j = 0; j < 4; j++)
            {
                float d0 = du[(j * pairs) + pair];
                float d1 = du[((4 + j) * pairs) + pair];
                float d2 = du[((8 + j) * pairs) + pair];
                float d3 = du[((12 + j) * pairs) + pair];
                t[j] = d0 + 0.5f * (d1 + d2);
                t[4 + j] = 0.5f * (d1 - d2);
                t[8 + j] = 0.5f * (d1 + d2) + d3;
            }

            // dW = t G (3×3): along each row a.
            var w = weightGradient.Slice(pair * 9, 9);
            for (int a = 0; a < 3; a++)
            {
                float t0 = t[a * 4], t1 = t[a * 4 + 1], t2 = t[a * 4 + 2], t3 = t[a * 4 + 3];
                w[a * 3] = t0 + 0.5f * (t1 + t2);
                w[a * 3 + 1] = 0.5f * (t1 - t2);
                w[a * 3 + 2] = 0.5f * (t1 + t2) + t3;
            }
        }
    }

    /// <summary>
    /// V = Bᵀ d B for every channel and tile of one image (channels, height, width), into columns
    /// [firstTile, firstTile + tiles per image) of v (16, channels, <paramref name="tiles"/>).
    /// </summary>
    public static void TransformInput(
        ConvGeometry geometry, ReadOnlySpan<float> image, Span<float> v, int tiles, int firstTile, Span<float> scratch)
    {
        int tileRows = TileRows(geometry);
        int tileColumns = TileColumns(geometry);
        int padded = PaddedLength(geometry);
        int paddedRows = 2 * tileRows + 2;
        int plane = geometry.Height * geometry.Width;
        int channels = geometry.Channels;
        long positionStride = (long)channels * tiles;
        var rowTransforms = scratch[..(paddedRows * 4 * padded)];
        var even = scratch.Slice(paddedRows * 4 * padded, padded);
        var odd = scratch.Slice(paddedRows * 4 * padded + padded, padded);
        var line = scratch.Slice(paddedRows * 4 * padded + 2 * padded, 2 * padded);
        line.Clear();
        ref float vBase = ref MemoryMarshal.GetReference(v);
        for (int c = 0; c < channels; c++)
        {
            var channel = image.Slice(c * plane, plane);

            // Each padded row's transform along x, (x0 − x2, x1 + x2, x2 − x1, x1 − x3) per tile, where tile
            // tx reads padded columns 2tx … 2tx+3: the even and odd columns' runs, read at tx and tx + 1.
            for (int q = 0; q < paddedRows; q++)
            {
                var rows = rowTransforms.Slice(q * 4 * padded, 4 * padded);
                int r = q - geometry.Padding;
                if (r < 0 || r >= geometry.Height)
                {
                    rows.Clear();
                    continue;
                }

                Deinterleave(channel.Slice(r * geometry.Width, geometry.Width), geometry.Padding, line, even, odd);
                ref float e = ref MemoryMarshal.GetReference(even);
                ref float o = ref MemoryMarshal.GetReference(odd);
                ref float t = ref MemoryMarshal.GetReference(rows);
                for (int tx = 0; tx < tileColumns; tx += Lanes)
                {
                    var e0 = Vector256.LoadUnsafe(ref e, (nuint)tx);
                    var e1 = Vector256.LoadUnsafe(ref e, (nuint)(tx + 1));
                    var o0 = Vector256.LoadUnsafe(ref o, (nuint)tx);
                    var o1 = Vector256.LoadUnsafe(ref o, (nuint)(tx + 1));
                    (e0 - e1).StoreUnsafe(ref t, (nuint)tx);
                    (o0 + e1).StoreUnsafe(ref t, (nuint)(padded + tx));
                    (e1 - o0).StoreUnsafe(ref t, (nuint)(2 * padded + tx));
                    (o0 - o1).StoreUnsafe(ref t, (nuint)(3 * padded + tx));
                }
            }

            // Down each tile's four rows: (r0 − r2, r1 + r2, r2 − r1, r1 − r3) for each of the 4 row values.
            ref float rt = ref MemoryMarshal.GetReference(rowTransforms);
            for (int ty = 0; ty < tileRows; ty++)
            {
                int rowBase = 2 * ty * 4 * padded;
                long tileBase = (long)c * tiles + firstTile + (long)ty * tileColumns;
                long rowEnd = (long)(c + 1) * tiles;
                for (int tx = 0; tx < tileColumns; tx += Lanes)
                {
                    int count = WholeOrPart(tileBase + tx, rowEnd, tileColumns - tx);
                    for (int j = 0; j < 4; j++)
                    {
                        nuint at = (nuint)(rowBase + j * padded + tx);
                        var r0 = Vector256.LoadUnsafe(ref rt, at);
                        var r1 = Vector256.LoadUnsafe(ref rt, at + (nuint)(4 * padded));
                        var r2 = Vector256.LoadUnsafe(ref rt, at + (nuint)(8 * padded));
                        var r3 = Vector256.LoadUnsafe(ref rt, at + (nuint)(12 * padded));
                        long target = tileBase + tx;
                        Store(r0 - r2, ref vBase, (j * positionStride) + target, count);
                        Store(r1 + r2, ref vBase, ((4 + j) * positionStride) + target, count);
                        Store(r2 - r1, ref vBase, ((8 + j) * positionStride) + target, count);
                        Store(r1 - r3, ref vBase, ((12 + j) * positionStride) + target, count);
                    }
                }
            }
        }
    }

    /// <summary>
    /// y = Aᵀ M A plus the bias for every filter and tile of one image: columns [firstTile, firstTile + tiles per
    /// image) of m (16, filters, <paramref name="tiles"/>) → output (filters, out height, out width).
    /// </summary>
    public static void InverseOutput(
        ConvGeometry geometry,
        int filters,
        ReadOnlySpan<float> m,
        int tiles,
        int firstTile,
        ReadOnlySpan<float> bias,
        Span<float> output)
    {
        int tileRows = TileRows(geometry);
        int tileColumns = TileColumns(geometry);
        int outHeight = geometry.OutHeight;
        int outWidth = geometry.OutWidth;
        int plane = outHeight * outWidth;
        long positionStride = (long)filters * tiles;
        ref float mBase = ref MemoryMarshal.GetReference(m);
        ref float outBase = ref MemoryMarshal.GetReference(output);
        Span<Vector256<float>> s = stackalloc Vector256<float>[8];
        for (int f = 0; f < filters; f++)
        {
            var b = Vector256.Create(bias[f]);
            for (int ty = 0; ty < tileRows; ty++)
            {
                long tileBase = (long)f * tiles + firstTile + (long)ty * tileColumns;
                for (int tx = 0; tx < tileColumns; tx += Lanes)
                {
                    // Down the 4 rows for each column j: s0 = m0 + m1 + m2, s1 = m1 − m2 − m3.
                    for (int j = 0; j < 4; j++)
                    {
                        long at = tileBase + tx;
                        var m0 = Vector256.LoadUnsafe(ref mBase, (nuint)((j * positionStride) + at));
                        var m1 = Vector256.LoadUnsafe(ref mBase, (nuint)(((4 + j) * positionStride) + at));
                        var m2 = Vector256.LoadUnsafe(ref mBase, (nuint)(((8 + j) * positionStride) + at));
                        var m3 = Vector256.LoadUnsafe(ref mBase, (nuint)(((12 + j) * positionStride) + at));
                        s[j] = m0 + m1 + m2;
                        s[4 + j] = m1 - m2 - m3;
                    }

                    for (int a = 0; a < 2; a++)
                    {
                        int y = 2 * ty + a;
                        if (y >= outHeight)
                        {
                            break;
                        }

                        int columns = Math.Min(2 * Lanes, outWidth - 2 * tx);

                        var left = s[a * 4] + s[a * 4 + 1] + s[a * 4 + 2] + b;
                        var right = s[a * 4 + 1] - s[a * 4 + 2] - s[a * 4 + 3] + b;
                        // Past a row's end the lanes reach the next row, which the second row of this tile
                        // row (a = 1) has already written in columns before 2·tx: only the first group of
                        // lanes may run over.
                        long rowStart = ((long)f * plane) + ((long)y * outWidth);
                        long limit = a == 0 && tx > 0 ? rowStart + outWidth : (long)filters * plane;
                        StoreInterleaved(left, right, ref outBase, rowStart + 2 * tx, columns, limit);
                    }
                }
            }
        }
    }

    /// <summary>
    /// dM = A dY Aᵀ for every filter and tile of one image: dY (filters, out height, out width) → columns
    /// [firstTile, firstTile + tiles per image) of dm (16, filters, <paramref name="tiles"/>).
    /// </summary>
    public static void TransformOutputGradient(
        ConvGeometry geometry,
        int filters,
        ReadOnlySpan<float> outputGradient,
        Span<float> dm,
        int tiles,
        int firstTile,
        Span<float> scratch)
    {
        int tileRows = TileRows(geometry);
        int tileColumns = TileColumns(geometry);
        int outHeight = geometry.OutHeight;
        int outWidth = geometry.OutWidth;
        int plane = outHeight * outWidth;
        int padded = PaddedLength(geometry);
        long positionStride = (long)filters * tiles;
        var even = scratch[..(2 * padded)];
        var odd = scratch.Slice(2 * padded, 2 * padded);
        var line = scratch.Slice(4 * padded, 2 * padded);
        line.Clear();
        ref float dmBase = ref MemoryMarshal.GetReference(dm);
        ref float e = ref MemoryMarshal.GetReference(even);
        ref float o = ref MemoryMarshal.GetReference(odd);
        for (int f = 0; f < filters; f++)
        {
            var gradient = outputGradient.Slice(f * plane, plane);
            for (int ty = 0; ty < tileRows; ty++)
            {
                // The tile row's two output rows, split into even and odd columns (zero past the edge).
                for (int a = 0; a < 2; a++)
                {
                    int y = 2 * ty + a;
                    if (y < outHeight)
                    {
                        Deinterleave(
                            gradient.Slice(y * outWidth, outWidth),
                            0,
                            line,
                            even.Slice(a * padded, padded),
                            odd.Slice(a * padded, padded));
                    }
                    else
                    {
                        even.Slice(a * padded, padded).Clear();
                        odd.Slice(a * padded, padded).Clear();
                    }
                }

                long tileBase = (long)f * tiles + firstTile + (long)ty * tileColumns;
                long rowEnd = (long)(f + 1) * tiles;
                for (int tx = 0; tx < tileColumns; tx += Lanes)
                {
                    int count = WholeOrPart(tileBase + tx, rowEnd, tileColumns - tx);

                    // Along x for each row a: q = (e, e + o, e − o, −o).
                    var e0 = Vector256.LoadUnsafe(ref e, (nuint)tx);
                    var o0 = Vector256.LoadUnsafe(ref o, (nuint)tx);
                    var e1 = Vector256.LoadUnsafe(ref e, (nuint)(padded + tx));
                    var o1 = Vector256.LoadUnsafe(ref o, (nuint)(padded + tx));
                    Span<Vector256<float>> top = [e0, e0 + o0, e0 - o0, -o0];
                    Span<Vector256<float>> bottom = [e1, e1 + o1, e1 - o1, -o1];

                    // Down y for each column j: (top, top + bottom, top − bottom, −bottom).
                    long target = tileBase + tx;
                    for (int j = 0; j < 4; j++)
                    {
                        Store(top[j], ref dmBase, (j * positionStride) + target, count);
                        Store(top[j] + bottom[j], ref dmBase, ((4 + j) * positionStride) + target, count);
                        Store(top[j] - bottom[j], ref dmBase, ((8 + j) * positionStride) + target, count);
                        Store(-bottom[j], ref dmBase, ((12 + j) * positionStride) + target, count);
                    }
                }
            }
        }
    }

    /// <summary>
    /// dX = the sum over tiles of B dV Bᵀ placed at each tile's 4×4 input block: columns [firstTile, firstTile +
    /// tiles per image) of dv (16, channels, <paramref name="tiles"/>) → inputGradient (channels, height, width),
    /// overwritten. Each input element sums its (up to 4) tiles' parts in tile order.
    /// </summary>
    public static void InverseInput(
        ConvGeometry geometry,
        ReadOnlySpan<float> dv,
        int tiles,
        int firstTile,
        Span<float> inputGradient,
        Span<float> scratch)
    {
        int tileRows = TileRows(geometry);
        int tileColumns = TileColumns(geometry);
        int padded = PaddedLength(geometry);
        int paddedRows = 2 * tileRows + 2;
        int plane = geometry.Height * geometry.Width;
        int channels = geometry.Channels;
        long positionStride = (long)channels * tiles;
        var sums = scratch[..(paddedRows * 2 * padded)];
        var row = scratch.Slice(paddedRows * 2 * padded, 2 * padded);
        ref float dvBase = ref MemoryMarshal.GetReference(dv);
        ref float acc = ref MemoryMarshal.GetReference(sums);
        Span<Vector256<float>> w = stackalloc Vector256<float>[16];
        for (int c = 0; c < channels; c++)
        {
            // Padded row q: its even columns at q·2·padded, odd columns padded further.
            sums.Clear();
            for (int ty = 0; ty < tileRows; ty++)
            {
                long tileBase = (long)c * tiles + firstTile + (long)ty * tileColumns;
                for (int tx = 0; tx < tileColumns; tx += Lanes)
                {
                    // Lanes past the last tile read the next row's tiles: zeroed so they add nothing.
                    var live = LaneMask(tileColumns - tx);
                    for (int j = 0; j < 4; j++)
                    {
                        long at = tileBase + tx;
                        var d0 = Vector256.LoadUnsafe(ref dvBase, (nuint)((j * positionStride) + at)) & live;
                        var d1 = Vector256.LoadUnsafe(ref dvBase, (nuint)(((4 + j) * positionStride) + at)) & live;
                        var d2 = Vector256.LoadUnsafe(ref dvBase, (nuint)(((8 + j) * positionStride) + at)) & live;
                        var d3 = Vector256.LoadUnsafe(ref dvBase, (nuint)(((12 + j) * positionStride) + at)) & live;

                        // Down y: rows r = 0..3 of the block get (d0, d1 − d2 + d3, −d0 + d1 + d2, −d3).
                        w[j] = d0;
                        w[4 + j] = d1 - d2 + d3;
                        w[8 + j] = d2 + d1 - d0;
                        w[12 + j] = -d3;
                    }

                    // Along x for each block row r, into padded row 2ty + r: columns 2tx … 2tx+3 get (w0,
                    // w1 − w2 + w3, −w0 + w1 + w2, −w3), i.e. even[tx], odd[tx], even[tx+1], odd[tx+1].
                    for (int r = 0; r < 4; r++)
                    {
                        nuint evenAt = (nuint)((2 * ty + r) * 2 * padded + tx);
                        nuint oddAt = evenAt + (nuint)padded;
                        var w0 = w[r * 4];
                        var w1 = w[r * 4 + 1];
                        var w2 = w[r * 4 + 2];
                        var w3 = w[r * 4 + 3];
                        (Vector256.LoadUnsafe(ref acc, evenAt) + w0).StoreUnsafe(ref acc, evenAt);
                        (Vector256.LoadUnsafe(ref acc, oddAt) + (w1 - w2 + w3)).StoreUnsafe(ref acc, oddAt);
                        (Vector256.LoadUnsafe(ref acc, evenAt + 1) + (w2 + w1 - w0)).StoreUnsafe(ref acc, evenAt + 1);
                        (Vector256.LoadUnsafe(ref acc, oddAt + 1) - w3).StoreUnsafe(ref acc, oddAt + 1);
                    }
                }
            }

            // Padded rows and columns back to the image: padded (q, x + p) is input (q − p, x).
            var channel = inputGradient.Slice(c * plane, plane);
            ref float rowRef = ref MemoryMarshal.GetReference(row);
            for (int y = 0; y < geometry.Height; y++)
            {
                int q = y + geometry.Padding;
                nuint evenAt = (nuint)(q * 2 * padded);
                for (int tx = 0; tx <= tileColumns; tx += Lanes)
                {
                    var even = Vector256.LoadUnsafe(ref acc, evenAt + (nuint)tx);
                    var odd = Vector256.LoadUnsafe(ref acc, evenAt + (nuint)(padded + tx));
                    StoreInterleaved(even, odd, ref rowRef, 2 * tx, 2 * Lanes, row.Length);
                }

                row.Slice(geometry.Padding, geometry.Width).CopyTo(channel.Slice(y * geometry.Width, geometry.Width));
            }
        }
    }

    // Length of a per-row run of tiles, with room for an 8-lane read at tx + 1 past the last tile.
    private static int PaddedLength(ConvGeometry geometry) =>
        ((TileColumns(geometry) + 1 + Lanes - 1) / Lanes * Lanes) + Lanes;

    // line[padding + x] = source[x], then line's even positions 2i into even[i] and odd positions 2i+1 into
    // odd[i] for i below even's length (a multiple of 8). The caller clears line once: the stretches outside
    // [padding, padding + source length) stay zero.
    private static void Deinterleave(
        ReadOnlySpan<float> source, int padding, Span<float> line, Span<float> even, Span<float> odd)
    {
        source.CopyTo(line[padding..]);
        ref float l = ref MemoryMarshal.GetReference(line);
        ref float e = ref MemoryMarshal.GetReference(even);
        ref float o = ref MemoryMarshal.GetReference(odd);
        for (int i = 0; i < even.Length; i += Lanes)
        {
            var first = Vector256.LoadUnsafe(ref l, (nuint)(2 * i));
            var second = Vector256.LoadUnsafe(ref l, (nuint)(2 * i + Lanes));

            // Within 128-bit halves: (f0 f2 s0 s2 | f4 f6 s4 s6); then the 64-bit pairs into order.
            var evens = Avx.Shuffle(first, second, 0b10_00_10_00);
            var odds = Avx.Shuffle(first, second, 0b11_01_11_01);
            Avx2.Permute4x64(evens.AsDouble(), 0b11_01_10_00).AsSingle().StoreUnsafe(ref e, (nuint)i);
            Avx2.Permute4x64(odds.AsDouble(), 0b11_01_10_00).AsSingle().StoreUnsafe(ref o, (nuint)i);
        }
    }

    // The first count lanes of value at destination + offset; all 8 when count is 8 or the caller allows writing
    // past them (lanes that a later store of the same pass overwrites).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store(Vector256<float> value, ref float destination, long offset, int count)
    {
        if (count >= Lanes)
        {
            value.StoreUnsafe(ref destination, (nuint)offset);
            return;
        }

        Avx.MaskStore((float*)Unsafe.AsPointer(ref Unsafe.Add(ref destination, (nint)offset)), LaneMask(count), value);
    }

    // (left[0], right[0], left[1], right[1], …): the first count floats at destination + offset, and up to 16
    // when they end before limit (the caller's later stores overwrite the rest).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreInterleaved(
        Vector256<float> left, Vector256<float> right, ref float destination, long offset, int count, long limit)
    {
        var low = Avx.UnpackLow(left, right);
        var high = Avx.UnpackHigh(left, right);
        var first = Avx.Permute2x128(low, high, 0x20);
        var second = Avx.Permute2x128(low, high, 0x31);
        Store(first, ref destination, offset, WholeOrPart(offset, limit, count));
        if (count > Lanes)
        {
            Store(second, ref destination, offset + Lanes, WholeOrPart(offset + Lanes, limit, count - Lanes));
        }
    }

    // All 8 lanes when they end by limit, where whatever they write past the count wanted is overwritten later
    // by the same pass (tiles and rows are written in ascending order); else only the count wanted.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int WholeOrPart(long offset, long limit, int count) =>
        offset + Lanes <= limit ? Lanes : Math.Min(Lanes, count);

    private static Vector256<float> LaneMask(int live) =>
        live >= Lanes
            ? Vector256<float>.AllBitsSet
            : Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(live)).AsSingle();
}
