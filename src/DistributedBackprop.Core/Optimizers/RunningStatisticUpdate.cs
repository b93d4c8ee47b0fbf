using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DistributedBackprop.Core.Optimizers;

/// <summary>
/// The update of a running statistic (BatchNorm mean or variance), which is not trained: its gradient slot
/// holds the step's reduced batch statistic, and value = (1 - momentum)·value + momentum·statistic.
/// </summary>
internal static class RunningStatisticUpdate
{
    // values, statistics: (n)
    public static void Apply(Span<float> values, ReadOnlySpan<float> statistics, float momentum)
    {
        ref float v = ref MemoryMarshal.GetReference(values);
        ref float s = ref MemoryMarshal.GetReference(statistics);
        float keep = 1f - momentum;
        int n = values.Length;
        int i = 0;

        if (Vector512.IsHardwareAccelerated)
        {
            var keepV = Vector512.Create(keep);
            var momentumV = Vector512.Create(momentum);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var value = Vector512.LoadUnsafe(ref v, (nuint)i);
                var statistic = Vector512.LoadUnsafe(ref s, (nuint)i);
                (keepV * value + momentumV * statistic).StoreUnsafe(ref v, (nuint)i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            var keepV = Vector256.Create(keep);
            var momentumV = Vector256.Create(momentum);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var value = Vector256.LoadUnsafe(ref v, (nuint)i);
                var statistic = Vector256.LoadUnsafe(ref s, (nuint)i);
                (keepV * value + momentumV * statistic).StoreUnsafe(ref v, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            values[i] = keep * values[i] + momentum * statistics[i];
        }
    }
}
