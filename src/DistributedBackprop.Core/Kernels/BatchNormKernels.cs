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
}
