using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using DistributedBackprop.Core.Parameters;

namespace DistributedBackprop.Core.Optimizers;

/// <summary>
/// The global L2 norm of the trained elements of a gradient vector, computed the same way to the bit however
/// the vector is split into shards.
/// </summary>
/// <remarks>
/// The definition fixes every rounding: the flat vector is cut into chunks of <see cref="ChunkSize"/>
/// elements by absolute index; inside a chunk, element k (counted from the chunk start) adds its square, in
/// double, to lane k mod 8, lanes accumulate in index order and are joined as ((l0+l1)+(l2+l3)) +
/// ((l4+l5)+(l6+l7)); chunk sums are then added one after another in chunk order (<see cref="Combine"/>).
/// A shard owning chunk-aligned [start, end) computes its chunks' sums alone, and the owner of the norm
/// combines all shards' sums in shard order. A float squared is exact in double, so only the additions
/// round, and lane assignment never depends on memory alignment or vector width. Running statistics are
/// not gradients and are skipped.
/// </remarks>
public static class GradientNorm
{
    /// <summary>Elements per chunk; shard boundaries must be multiples of it.</summary>
    public const int ChunkSize = 4096;

    private const int Lanes = 8;

    /// <summary>Number of chunks covering <paramref name="length"/> elements that start at a chunk boundary.</summary>
    public static int ChunkCount(int length) => (int)(((long)length + ChunkSize - 1) / ChunkSize);

    /// <summary>
    /// The sums of squares of the trained elements of each chunk of a gradient slice, in chunk order.
    /// </summary>
    /// <param name="gradientSlice">Elements [sliceStart, sliceStart + length) of the flat gradient vector.</param>
    /// <param name="sliceStart">A multiple of <see cref="ChunkSize"/>; the slice must end at a multiple of
    /// it or at the end of the layout.</param>
    public static double[] ChunkSumsOfSquares(ParameterLayout layout, ReadOnlySpan<float> gradientSlice, int sliceStart)
    {
        var sums = new double[ChunkCount(gradientSlice.Length)];
        ChunkSumsOfSquares(layout, gradientSlice, sliceStart, sums);
        return sums;
    }

    /// <summary>As <see cref="ChunkSumsOfSquares(ParameterLayout, ReadOnlySpan{float}, int)"/>, into a
    /// caller's buffer of <see cref="ChunkCount"/>(gradientSlice.Length) doubles; allocates nothing.</summary>
    public static void ChunkSumsOfSquares(
        ParameterLayout layout,
        ReadOnlySpan<float> gradientSlice,
        int sliceStart,
        Span<double> destination)
    {
        ArgumentNullException.ThrowIfNull(layout);
        int sliceEnd = sliceStart + gradientSlice.Length;
        if (sliceStart < 0 || sliceStart % ChunkSize != 0 || sliceEnd > layout.Count
            || (sliceEnd % ChunkSize != 0 && sliceEnd != layout.Count))
        {
            throw new ArgumentException(
                $"The slice [{sliceStart}, {sliceEnd}) must start at a multiple of {ChunkSize} and end at a "
                + $"multiple of it or at the end of the layout ({layout.Count}).",
                nameof(sliceStart));
        }

        int chunks = ChunkCount(gradientSlice.Length);
        if (destination.Length != chunks)
        {
            throw new ArgumentException(
                $"destination has {destination.Length} elements; the slice has {chunks} chunks.", nameof(destination));
        }

        int segment = FirstSegmentEndingAfter(layout, sliceStart);
        for (int c = 0; c < chunks; c++)
        {
            int chunkStart = sliceStart + c * ChunkSize;
            int chunkEnd = Math.Min(chunkStart + ChunkSize, sliceEnd);
            var chunk = gradientSlice[(chunkStart - sliceStart)..(chunkEnd - sliceStart)];
            destination[c] = ChunkSum(layout, chunk, chunkStart, ref segment);
        }
    }

    /// <summary>Adds chunk sums one after another, in the order given (chunk order across all shards).</summary>
    public static double Combine(IEnumerable<double> chunkSumsInOrder)
    {
        ArgumentNullException.ThrowIfNull(chunkSumsInOrder);
        double total = 0;
        foreach (double sum in chunkSumsInOrder)
        {
            total += sum;
        }

        return total;
    }

    /// <summary>As <see cref="Combine(IEnumerable{double})"/>, continuing from <paramref name="total"/>, so a
    /// caller can fold shard after shard without allocating.</summary>
    public static double Combine(ReadOnlySpan<double> chunkSumsInOrder, double total = 0)
    {
        foreach (double sum in chunkSumsInOrder)
        {
            total += sum;
        }

        return total;
    }

    /// <summary>The global norm of a whole gradient vector: sqrt of the combined chunk sums.</summary>
    public static double GlobalNorm(ParameterLayout layout, ReadOnlySpan<float> gradients) =>
        Math.Sqrt(Combine(ChunkSumsOfSquares(layout, gradients, 0)));

    /// <summary>
    /// Adds each segment's sum of squares over the slice to <paramref name="segmentSums"/> (one double per
    /// layout segment, running statistics left untouched). For telemetry: sqrt of the totals, after every
    /// shard has added its part in shard order, gives per-layer norms that may differ from a whole-vector
    /// computation in the last bits when a segment spans shards.
    /// </summary>
    /// <param name="gradientSlice">Elements [sliceStart, sliceStart + length) of the flat gradient vector.</param>
    public static void AddSegmentSumsOfSquares(
        ParameterLayout layout,
        ReadOnlySpan<float> gradientSlice,
        int sliceStart,
        Span<double> segmentSums)
    {
        ArgumentNullException.ThrowIfNull(layout);
        if (segmentSums.Length != layout.Segments.Count)
        {
            throw new ArgumentException(
                $"segmentSums has {segmentSums.Length} elements; the layout has {layout.Segments.Count} segments.",
                nameof(segmentSums));
        }

        int sliceEnd = sliceStart + gradientSlice.Length;
        if (sliceStart < 0 || sliceEnd > layout.Count)
        {
            throw new ArgumentOutOfRangeException(
                nameof(sliceStart), $"The slice [{sliceStart}, {sliceEnd}) is not inside [0, {layout.Count}).");
        }

        for (int s = 0; s < layout.Segments.Count; s++)
        {
            var segment = layout.Segments[s];
            int start = Math.Max(segment.Offset, sliceStart);
            int end = Math.Min(segment.End, sliceEnd);
            if (segment.IsTrained && start < end)
            {
                var lanes = new LaneSums();
                lanes.Add(gradientSlice[(start - sliceStart)..(end - sliceStart)], 0);
                segmentSums[s] += lanes.Total();
            }
        }
    }

    /// <summary>Per-segment L2 norms of a whole gradient vector, 0 for running statistics.</summary>
    public static double[] SegmentNorms(ParameterLayout layout, ReadOnlySpan<float> gradients)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var sums = new double[layout.Segments.Count];
        AddSegmentSumsOfSquares(layout, gradients, 0, sums);
        for (int s = 0; s < sums.Length; s++)
        {
            sums[s] = Math.Sqrt(sums[s]);
        }

        return sums;
    }

    // chunk: the gradient elements [chunkStart, chunkStart + chunk.Length). segment walks forward across chunks.
    private static double ChunkSum(ParameterLayout layout, ReadOnlySpan<float> chunk, int chunkStart, ref int segment)
    {
        int chunkEnd = chunkStart + chunk.Length;
        var lanes = new LaneSums();
        var segments = layout.Segments;
        while (segment < segments.Count && segments[segment].Offset < chunkEnd)
        {
            var current = segments[segment];
            int start = Math.Max(current.Offset, chunkStart);
            int end = Math.Min(current.End, chunkEnd);
            if (current.IsTrained && start < end)
            {
                lanes.Add(chunk[(start - chunkStart)..(end - chunkStart)], start - chunkStart);
            }

            if (current.End > chunkEnd)
            {
                break;
            }

            segment++;
        }

        return lanes.Total();
    }

    private static int FirstSegmentEndingAfter(ParameterLayout layout, int index)
    {
        int segment = 0;
        while (segment < layout.Segments.Count && layout.Segments[segment].End <= index)
        {
            segment++;
        }

        return segment;
    }

    // Eight double accumulators; lanes 0-3 in Low, 4-7 in High.
    private struct LaneSums
    {
        private Vector256<double> _low;
        private Vector256<double> _high;

        // values: (n), the elements at chunk positions [position, position + n); each adds to lane position mod 8.
        public void Add(ReadOnlySpan<float> values, int position)
        {
            int i = 0;
            int n = values.Length;
            for (; i < n && (position + i) % Lanes != 0; i++)
            {
                AddScalar((position + i) % Lanes, values[i]);
            }

            // Locals rather than the fields, so the accumulators stay in registers through the loop.
            ref float x = ref MemoryMarshal.GetReference(values);
            var lowSum = _low;
            var highSum = _high;
            for (; i <= n - Lanes; i += Lanes)
            {
                var (low, high) = Vector256.Widen(Vector256.LoadUnsafe(ref x, (nuint)i));
                lowSum += low * low;
                highSum += high * high;
            }

            _low = lowSum;
            _high = highSum;

            for (; i < n; i++)
            {
                AddScalar((position + i) % Lanes, values[i]);
            }
        }

        public readonly double Total() =>
            ((_low[0] + _low[1]) + (_low[2] + _low[3])) + ((_high[0] + _high[1]) + (_high[2] + _high[3]));

        private void AddScalar(int lane, float value)
        {
            double square = (double)value * value;
            if (lane < 4)
            {
                _low = _low.WithElement(lane, _low[lane] + square);
            }
            else
            {
                _high = _high.WithElement(lane - 4, _high[lane - 4] + square);
            }
        }
    }
}
