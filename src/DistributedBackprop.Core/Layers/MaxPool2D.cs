using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using DistributedBackprop.Core.Kernels;

namespace DistributedBackprop.Core.Layers;

/// <summary>
/// Maximum over square windows of each channel, without padding. Backward sends each output gradient to the
/// input element that won the window in forward; on ties the first in row-major order wins.
/// </summary>
public sealed class MaxPool2D : Pool2D
{
    private const int FourWindows = 4;

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
        int outWidth = g.OutWidth;
        bool vector = Sse.IsSupported && outWidth >= FourWindows;
        int o = 0;
        for (int c = 0; c < g.Channels; c++)
        {
            for (int oh = 0; oh < g.OutHeight; oh++, o += outWidth)
            {
                int start = (c * g.Height + 2 * oh) * width;
                if (vector)
                {
                    // Four windows at a time; the last block is moved left to end at the row's end, so it may
                    // redo windows of the one before, which rewrites the same values.
                    for (int ow = 0; ow < outWidth; ow += FourWindows)
                    {
                        int first = Math.Min(ow, outWidth - FourWindows);
                        PoolFourWindows(
                            ref x, start + 2 * first, width, ref Unsafe.Add(ref y, o + first),
                            ref Unsafe.Add(ref w, o + first));
                    }

                    continue;
                }

                for (int ow = 0; ow < outWidth; ow++)
                {
                    PoolWindow(
                        ref x, start + 2 * ow, width, ref Unsafe.Add(ref y, o + ow), ref Unsafe.Add(ref w, o + ow));
                }
            }
        }
    }

    // One window at image[start]: candidates in row-major order; strictly greater keeps the first maximum on
    // ties (and never takes a NaN after the first). The winner depends on the data, so branches would
    // mispredict: the comparisons run in lane 0 of vector registers, which compiles to selects, not jumps.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PoolWindow(ref float x, int start, int width, ref float pooled, ref int winner)
    {
        var max = Vector128.CreateScalarUnsafe(Unsafe.Add(ref x, start));
        var best = Vector128.CreateScalarUnsafe(start);
        Challenge(ref max, ref best, Vector128.CreateScalarUnsafe(Unsafe.Add(ref x, start + 1)), start + 1);
        Challenge(ref max, ref best, Vector128.CreateScalarUnsafe(Unsafe.Add(ref x, start + width)), start + width);
        Challenge(
            ref max, ref best, Vector128.CreateScalarUnsafe(Unsafe.Add(ref x, start + width + 1)), start + width + 1);
        pooled = max.ToScalar();
        winner = best.ToScalar();
    }

    // Four neighbouring windows whose first starts at image[start], one per lane, with PoolWindow's comparisons
    // in the same order: the left and right columns of each row are split into even and odd lanes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PoolFourWindows(ref float x, int start, int width, ref float pooled, ref int winner)
    {
        var top0 = Vector128.LoadUnsafe(ref x, (nuint)start);
        var top1 = Vector128.LoadUnsafe(ref x, (nuint)(start + 4));
        var bottom0 = Vector128.LoadUnsafe(ref x, (nuint)(start + width));
        var bottom1 = Vector128.LoadUnsafe(ref x, (nuint)(start + width + 4));
        var index = Vector128.Create(start) + Vector128.Create(0, 2, 4, 6);

        var max = Sse.Shuffle(top0, top1, 0x88);
        var best = index;
        Challenge(ref max, ref best, Sse.Shuffle(top0, top1, 0xDD), index + Vector128.Create(1));
        Challenge(ref max, ref best, Sse.Shuffle(bottom0, bottom1, 0x88), index + Vector128.Create(width));
        Challenge(ref max, ref best, Sse.Shuffle(bottom0, bottom1, 0xDD), index + Vector128.Create(width + 1));
        max.StoreUnsafe(ref pooled);
        best.StoreUnsafe(ref winner);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Challenge(
        ref Vector128<float> max,
        ref Vector128<int> best,
        Vector128<float> candidate,
        int index) =>
        Challenge(ref max, ref best, candidate, Vector128.CreateScalarUnsafe(index));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Challenge(
        ref Vector128<float> max,
        ref Vector128<int> best,
        Vector128<float> candidate,
        Vector128<int> index)
    {
        var wins = Vector128.GreaterThan(candidate, max);
        max = Vector128.ConditionalSelect(wins, candidate, max);
        best = Vector128.ConditionalSelect(wins.AsInt32(), index, best);
    }

    private protected override void BackwardRange(int worker, int first, int end)
    {
        var g = Geometry;
        int outputLength = g.Channels * g.ColumnCount;
        var outputGradient = OutputGradient!.Span;
        var inputGradient = InputGradient!.Span;

        // Disjoint 2×2 windows that tile the whole plane: each input element gets one value, written once.
        bool tiled = g.Kernel == 2 && g.Stride == 2 && g.Height % 2 == 0 && g.Width % 2 == 0
            && g.OutWidth >= FourWindows && Sse.IsSupported;
        for (int b = first; b < end; b++)
        {
            var source = outputGradient.Slice(b * outputLength, outputLength);
            var target = inputGradient.Slice(b * g.ImageLength, g.ImageLength);
            var winners = _argmax.AsSpan(b * outputLength, outputLength);
            if (tiled)
            {
                UnpoolTwoByTwo(g, source, winners, target);
                continue;
            }

            target.Clear();

            // Overlapping windows (stride < size) may share a winner, hence += in output order.
            for (int o = 0; o < outputLength; o++)
            {
                target[winners[o]] += source[o];
            }
        }
    }

    // The backward of PoolTwoByTwo on a plane its windows tile: each input element is 0 + its window's gradient
    // where it won, else 0, the bits of clearing the plane and adding each gradient at its winner. Four windows
    // at a time, the last block moved left as in PoolTwoByTwo.
    private static void UnpoolTwoByTwo(
        in ConvGeometry g,
        ReadOnlySpan<float> outputGradient,
        ReadOnlySpan<int> winners,
        Span<float> inputGradient)
    {
        ref float dy = ref MemoryMarshal.GetReference(outputGradient);
        ref int w = ref MemoryMarshal.GetReference(winners);
        ref float dx = ref MemoryMarshal.GetReference(inputGradient);
        int width = g.Width;
        int outWidth = g.OutWidth;
        int o = 0;
        for (int c = 0; c < g.Channels; c++)
        {
            for (int oh = 0; oh < g.OutHeight; oh++, o += outWidth)
            {
                int start = (c * g.Height + 2 * oh) * width;
                for (int ow = 0; ow < outWidth; ow += FourWindows)
                {
                    int block = Math.Min(ow, outWidth - FourWindows);
                    int corner = start + 2 * block;
                    var index = Vector128.Create(corner) + Vector128.Create(0, 2, 4, 6);
                    var winner = Vector128.LoadUnsafe(ref w, (nuint)(o + block));
                    var gradient = Vector128<float>.Zero + Vector128.LoadUnsafe(ref dy, (nuint)(o + block));
                    var topLeft = Route(winner, index, gradient);
                    var topRight = Route(winner, index + Vector128.Create(1), gradient);
                    var bottomLeft = Route(winner, index + Vector128.Create(width), gradient);
                    var bottomRight = Route(winner, index + Vector128.Create(width + 1), gradient);
                    Sse.UnpackLow(topLeft, topRight).StoreUnsafe(ref dx, (nuint)corner);
                    Sse.UnpackHigh(topLeft, topRight).StoreUnsafe(ref dx, (nuint)(corner + 4));
                    Sse.UnpackLow(bottomLeft, bottomRight).StoreUnsafe(ref dx, (nuint)(corner + width));
                    Sse.UnpackHigh(bottomLeft, bottomRight).StoreUnsafe(ref dx, (nuint)(corner + width + 4));
                }
            }
        }
    }

    // gradient in the lanes whose winner is at index, +0 elsewhere.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Route(Vector128<int> winner, Vector128<int> index, Vector128<float> gradient) =>
        Vector128.ConditionalSelect(Vector128.Equals(winner, index).AsSingle(), gradient, Vector128<float>.Zero);
}
