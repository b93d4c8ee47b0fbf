using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using DistributedBackprop.Core.Kernels;

namespace DistributedBackprop.Core.Layers;

/// <summary>
/// Maximum over square windows of each channel, without padding. Backward sends each output gradient to the
/// input element that won the window in forward; on ties the first in row-major order wins.
/// </summary>
public sealed class MaxPool2D : Pool2D
{
    // For each output element (batch, C, OH, OW): the flat index of its maximum within the sample's (C, H, W).
    private int[] _argmax = [];

    /// <param name="size">Window height and width.</param>
    /// <param name="stride">Step between windows; defaults to <paramref name="size"/> (no overlap).</param>
    public MaxPool2D(int size, int? stride = null)
        : base("MaxPool2D", size, stride)
    {
    }

    public override string Type => "maxpool2d";

    private protected override void PrepareForward(int outputLength)
    {
        if (_argmax.Length < outputLength)
        {
            _argmax = new int[outputLength];
        }
    }

    private protected override void ForwardRange(int worker, int first, int end)
    {
        var g = Geometry;
        int planeLength = g.Height * g.Width;
        int outputLength = g.Channels * g.ColumnCount;
        var input = Input!.Span;
        var output = Output!.Span;

        for (int b = first; b < end; b++)
        {
            var image = input.Slice(b * g.ImageLength, g.ImageLength);
            var pooled = output.Slice(b * outputLength, outputLength);
            var winners = _argmax.AsSpan(b * outputLength, outputLength);
            if (g.Kernel == 2 && g.Stride == 2)
            {
                PoolTwoByTwo(g, image, pooled, winners);
                continue;
            }

            int o = 0;
            for (int c = 0; c < g.Channels; c++)
            {
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    for (int ow = 0; ow < g.OutWidth; ow++, o++)
                    {
                        int start = c * planeLength + oh * g.Stride * g.Width + ow * g.Stride;
                        int best = start;
                        for (int i = 0; i < g.Kernel; i++)
                        {
                            int row = start + i * g.Width;
                            for (int j = 0; j < g.Kernel; j++)
                            {
                                // Strictly greater keeps the first maximum on ties.
                                if (image[row + j] > image[best])
                                {
                                    best = row + j;
                                }
                            }
                        }

                        pooled[o] = image[best];
                        winners[o] = best;
                    }
                }
            }
        }
    }

    // The common 2×2, stride 2 window without per-element bounds checks; same winners as the general loop.
    private static void PoolTwoByTwo(
        in ConvGeometry g,
        ReadOnlySpan<float> image,
        Span<float> pooled,
        Span<int> winners)
    {
        ref float x = ref MemoryMarshal.GetReference(image);
        ref float y = ref MemoryMarshal.GetReference(pooled);
        ref int w = ref MemoryMarshal.GetReference(winners);
        int width = g.Width;
        int o = 0;
        for (int c = 0; c < g.Channels; c++)
        {
            for (int oh = 0; oh < g.OutHeight; oh++)
            {
                int start = (c * g.Height + 2 * oh) * width;
                for (int ow = 0; ow < g.OutWidth; ow++, o++, start += 2)
                {
                    // Candidates in row-major order; strictly greater keeps the first maximum on ties (and never
                    // takes a NaN after the first). The winner depends on the data, so branches would mispredict:
                    // the comparisons run in lane 0 of vector registers, which compiles to selects, not jumps.
                    var max = Vector128.CreateScalarUnsafe(Unsafe.Add(ref x, start));
                    var best = Vector128.CreateScalarUnsafe(start);
                    Challenge(ref max, ref best, Unsafe.Add(ref x, start + 1), start + 1);
                    Challenge(ref max, ref best, Unsafe.Add(ref x, start + width), start + width);
                    Challenge(ref max, ref best, Unsafe.Add(ref x, start + width + 1), start + width + 1);
                    Unsafe.Add(ref y, o) = max.ToScalar();
                    Unsafe.Add(ref w, o) = best.ToScalar();
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Challenge(ref Vector128<float> max, ref Vector128<int> best, float value, int index)
    {
        var candidate = Vector128.CreateScalarUnsafe(value);
        var wins = Vector128.GreaterThan(candidate, max);
        max = Vector128.ConditionalSelect(wins, candidate, max);
        best = Vector128.ConditionalSelect(wins.AsInt32(), Vector128.CreateScalarUnsafe(index), best);
    }

    private protected override void BackwardRange(int worker, int first, int end)
    {
        var g = Geometry;
        int outputLength = g.Channels * g.ColumnCount;
        var outputGradient = OutputGradient!.Span;
        var inputGradient = InputGradient!.Span;

        for (int b = first; b < end; b++)
        {
            var source = outputGradient.Slice(b * outputLength, outputLength);
            var target = inputGradient.Slice(b * g.ImageLength, g.ImageLength);
            var winners = _argmax.AsSpan(b * outputLength, outputLength);
            target.Clear();

            // Overlapping windows (stride < size) may share a winner, hence += in output order.
            for (int o = 0; o < outputLength; o++)
            {
                target[winners[o]] += source[o];
            }
        }
    }
}
