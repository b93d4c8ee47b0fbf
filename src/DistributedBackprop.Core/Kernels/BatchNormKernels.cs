using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// The element-wise passes of batch normalisation over one (sample, channel) row. Vector and scalar paths
/// apply the same float operations in the same order (no fused multiply-add), so an element's bits do not
/// depend on which path handles it.
/// </summary>
internal static class BatchNormKernels
{
    /// <summary>x, output: (n). output = γ·x̂ + β with x̂ = (x − mean)·inverseStd, computed as
    /// <see cref="Standardize"/> computes it.</summary>
    public static void Normalize(
        ReadOnlySpan<float> x,
        float mean,
        float inverseStd,
        float gamma,
        float beta,
        Span<float> output)
    {
        ref float source = ref MemoryMarshal.GetReference(x);
        ref float y = ref MemoryMarshal.GetReference(output);
        int n = x.Length;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var m = Vector256.Create(mean);
            var s = Vector256.Create(inverseStd);
            var g = Vector256.Create(gamma);
            var t = Vector256.Create(beta);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var h = (Vector256.LoadUnsafe(ref source, (nuint)i) - m) * s;
                (g * h + t).StoreUnsafe(ref y, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            float h = (x[i] - mean) * inverseStd;
            output[i] = gamma * h + beta;
        }
    }

    /// <summary>x, normalized: (n). normalized = (x − mean)·inverseStd: backward recomputes x̂ from the input
    /// rather than forward storing it, which saves writing and reading back a tensor the size of the input.
    /// </summary>
    public static void Standardize(ReadOnlySpan<float> x, float mean, float inverseStd, Span<float> normalized)
    {
        ref float source = ref MemoryMarshal.GetReference(x);
        ref float xHat = ref MemoryMarshal.GetReference(normalized);
        int n = x.Length;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var m = Vector256.Create(mean);
            var s = Vector256.Create(inverseStd);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                ((Vector256.LoadUnsafe(ref source, (nuint)i) - m) * s).StoreUnsafe(ref xHat, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            normalized[i] = (x[i] - mean) * inverseStd;
        }
    }

    /// <summary>dy, normalized, dx: (n). dx = scale·(dy − shift − normalized·slope).</summary>
    public static void InputGradient(
        ReadOnlySpan<float> dy,
        ReadOnlySpan<float> normalized,
        float scale,
        float shift,
        float slope,
        Span<float> dx)
    {
        ref float g = ref MemoryMarshal.GetReference(dy);
        ref float xHat = ref MemoryMarshal.GetReference(normalized);
        ref float target = ref MemoryMarshal.GetReference(dx);
        int n = dy.Length;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var a = Vector256.Create(scale);
            var b = Vector256.Create(shift);
            var k = Vector256.Create(slope);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.LoadUnsafe(ref g, (nuint)i) - b - Vector256.LoadUnsafe(ref xHat, (nuint)i) * k;
                (a * v).StoreUnsafe(ref target, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            dx[i] = scale * (dy[i] - shift - normalized[i] * slope);
        }
    }

    /// <summary>
    /// x, dy, normalized, masked: (n). One row of the backward of a batch norm followed by a fused ReLU, in one
    /// pass: normalized = x̂ as <see cref="Standardize"/> computes it; masked = dy where the forward output
    /// y = γ·x̂ + β (recomputed with <see cref="Normalize"/>'s operations, so the same bits) is positive, else
    /// dy·0, as the ReLU's backward computes it; and <paramref name="sum"/> = Σ masked,
    /// <paramref name="dot"/> = Σ masked·x̂ with the lanes and joins of <see cref="OrderedSum"/>.
    /// </summary>
    public static void MaskedGradientSums(
        ReadOnlySpan<float> x,
        ReadOnlySpan<float> dy,
        float mean,
        float inverseStd,
        float gamma,
        float beta,
        Span<float> normalized,
        Span<float> masked,
        out float sum,
        out float dot)
    {
        const int lanes = 16;
        ref float source = ref MemoryMarshal.GetReference(x);
        ref float gradient = ref MemoryMarshal.GetReference(dy);
        ref float xHat = ref MemoryMarshal.GetReference(normalized);
        ref float target = ref MemoryMarshal.GetReference(masked);
        int n = x.Length;
        var m = Vector256.Create(mean);
        var s = Vector256.Create(inverseStd);
        var g = Vector256.Create(gamma);
        var t = Vector256.Create(beta);
        var sumLow = Vector256<float>.Zero;
        var sumHigh = Vector256<float>.Zero;
        var dotLow = Vector256<float>.Zero;
        var dotHigh = Vector256<float>.Zero;
        int i = 0;
        for (; i <= n - lanes; i += lanes)
        {
            var h0 = (Vector256.LoadUnsafe(ref source, (nuint)i) - m) * s;
            var h1 = (Vector256.LoadUnsafe(ref source, (nuint)(i + 8)) - m) * s;
            var d0 = Vector256.LoadUnsafe(ref gradient, (nuint)i);
            var d1 = Vector256.LoadUnsafe(ref gradient, (nuint)(i + 8));
            d0 = Vector256.ConditionalSelect(Vector256.GreaterThan(g * h0 + t, Vector256<float>.Zero), d0, d0 * 0f);
            d1 = Vector256.ConditionalSelect(Vector256.GreaterThan(g * h1 + t, Vector256<float>.Zero), d1, d1 * 0f);
            h0.StoreUnsafe(ref xHat, (nuint)i);
            h1.StoreUnsafe(ref xHat, (nuint)(i + 8));
            d0.StoreUnsafe(ref target, (nuint)i);
            d1.StoreUnsafe(ref target, (nuint)(i + 8));

            // A product then an addition, never fused, as in OrderedSum.Dot.
            sumLow += d0;
            sumHigh += d1;
            dotLow += d0 * h0;
            dotHigh += d1 * h1;
        }

        Span<float> sumLanes = stackalloc float[lanes];
        Span<float> dotLanes = stackalloc float[lanes];
        sumLow.CopyTo(sumLanes);
        sumHigh.CopyTo(sumLanes[8..]);
        dotLow.CopyTo(dotLanes);
        dotHigh.CopyTo(dotLanes[8..]);
        for (int lane = 0; i < n; i++, lane++)
        {
            float h = (x[i] - mean) * inverseStd;
            float y = gamma * h + beta;
            float d = y > 0f ? dy[i] : 0f * dy[i];
            normalized[i] = h;
            masked[i] = d;
            sumLanes[lane] += d;
            dotLanes[lane] += d * h;
        }

        sum = OrderedSum.Join(sumLanes);
        dot = OrderedSum.Join(dotLanes);
    }
}
