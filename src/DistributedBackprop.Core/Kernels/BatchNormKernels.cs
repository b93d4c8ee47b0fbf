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
    /// <summary>x, normalized, output: (n). normalized = (x - mean)·inverseStd; output = γ·normalized + β.
    /// </summary>
    public static void Normalize(
        ReadOnlySpan<float> x,
        float mean,
        float inverseStd,
        float gamma,
        float beta,
        Span<float> normalized,
        Span<float> output)
    {
        ref float source = ref MemoryMarshal.GetReference(x);
        ref float xHat = ref MemoryMarshal.GetReference(normalized);
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
                h.StoreUnsafe(ref xHat, (nuint)i);
                (g * h + t).StoreUnsafe(ref y, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            float h = (x[i] - mean) * inverseStd;
            normalized[i] = h;
            output[i] = gamma * h + beta;
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
}
