using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// Float sums (plain, dot product, squared deviations) whose rounding is fixed by the definition, not by the
/// hardware or the data's alignment: element i adds to lane i mod 16, lanes accumulate in index order, and
/// the lanes are joined pairwise as a balanced tree (0+1, 2+3, … then pairs of pairs). The result is the same
/// on every machine and thread count, which TensorPrimitives.Sum does not promise, and it runs at vector
/// speed unlike a plain loop.
/// </summary>
public static class OrderedSum
{
    private const int Lanes = 16;

    /// <summary>The sum of <paramref name="values"/> as defined above.</summary>
    public static float Sum(ReadOnlySpan<float> values)
    {
        ref float start = ref MemoryMarshal.GetReference(values);
        var low = Vector256<float>.Zero;
        var high = Vector256<float>.Zero;
        int i = 0;
        for (; i <= values.Length - Lanes; i += Lanes)
        {
            low += Vector256.LoadUnsafe(ref start, (nuint)i);
            high += Vector256.LoadUnsafe(ref start, (nuint)(i + 8));
        }

        Span<float> lanes = stackalloc float[Lanes];
        low.CopyTo(lanes);
        high.CopyTo(lanes[8..]);
        for (int lane = 0; i < values.Length; i++, lane++)
        {
            lanes[lane] += values[i];
        }

        return Join(lanes);
    }

    /// <summary>Σ a[i]·b[i] over the common length, with the lanes and joins of <see cref="Sum"/>.</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        ref float x = ref MemoryMarshal.GetReference(a);
        ref float y = ref MemoryMarshal.GetReference(b);
        int n = Math.Min(a.Length, b.Length);
        var low = Vector256<float>.Zero;
        var high = Vector256<float>.Zero;
        int i = 0;
        for (; i <= n - Lanes; i += Lanes)
        {
            // A product then an addition, never fused, so the vector lanes round like the scalar tail.
            low += Vector256.LoadUnsafe(ref x, (nuint)i) * Vector256.LoadUnsafe(ref y, (nuint)i);
            high += Vector256.LoadUnsafe(ref x, (nuint)(i + 8)) * Vector256.LoadUnsafe(ref y, (nuint)(i + 8));
        }

        Span<float> lanes = stackalloc float[Lanes];
        low.CopyTo(lanes);
        high.CopyTo(lanes[8..]);
        for (int lane = 0; i < n; i++, lane++)
        {
            lanes[lane] += a[i] * b[i];
        }

        return Join(lanes);
    }

    /// <summary>Σ (x[i] − center)², with the lanes and joins of <see cref="Sum"/>.</summary>
    public static float SumOfSquaredDeviations(ReadOnlySpan<float> values, float center)
    {
        ref float start = ref MemoryMarshal.GetReference(values);
        var shift = Vector256.Create(center);
        var low = Vector256<float>.Zero;
        var high = Vector256<float>.Zero;
        int i = 0;
        for (; i <= values.Length - Lanes; i += Lanes)
        {
            var d0 = Vector256.LoadUnsafe(ref start, (nuint)i) - shift;
            var d1 = Vector256.LoadUnsafe(ref start, (nuint)(i + 8)) - shift;
            low += d0 * d0;
            high += d1 * d1;
        }

        Span<float> lanes = stackalloc float[Lanes];
        low.CopyTo(lanes);
        high.CopyTo(lanes[8..]);
        for (int lane = 0; i < values.Length; i++, lane++)
        {
            float d = values[i] - center;
            lanes[lane] += d * d;
        }

        return Join(lanes);
    }

    /// <summary>Plain scalar version of <see cref="Sum"/>: the test oracle.</summary>
    public static float SumReference(ReadOnlySpan<float> values)
    {
        Span<float> lanes = stackalloc float[Lanes];
        lanes.Clear();
        for (int i = 0; i < values.Length; i++)
        {
            lanes[i % Lanes] += values[i];
        }

        return Join(lanes);
    }

    /// <summary>Joins 16 lanes as the sums above do: a balanced pairwise tree of fixed shape. For kernels that
    /// fuse one of these sums into another pass; overwrites <paramref name="lanes"/>.</summary>
    internal static float Join(Span<float> lanes)
    {
        for (int width = Lanes / 2; width >= 1; width /= 2)
        {
            for (int j = 0; j < width; j++)
            {
                lanes[j] = lanes[2 * j] + lanes[2 * j + 1];
            }
        }

        return lanes[0];
    }
}
