using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DistributedBackprop.Benchmarks;

/// <summary>
/// Measures the single-precision FMA peak: independent multiply-add chains on the widest accelerated vector,
/// more than the FMA latency (4 or 5 cycles) times the FMA ports (2), yet few enough to stay in registers with
/// the two constants: 16 of the 32 AVX-512 registers, 12 of the 16 AVX2 ones (16 chains there made the JIT
/// spill two of them to the stack, and the loop measured 30% below what the GEMM reaches).
/// </summary>
internal static class FmaPeak
{
    private const int Chains512 = 16;
    private const int Chains256 = 12;
    private const long Iterations = 1L << 24;

    public static double Measure(int threads)
    {
        double seconds = Timing.MedianSeconds(() => RunOnThreads(threads));
        return FlopsPerRun(threads) / seconds / 1e9;
    }

    /// <summary>Floating-point operations of one <see cref="RunOnThreads"/> call.</summary>
    public static double FlopsPerRun(int threads)
    {
        double perIteration = Vector512.IsHardwareAccelerated
            ? Chains512 * Vector512<float>.Count
            : Chains256 * Vector256<float>.Count;
        return 2.0 * perIteration * Iterations * threads;
    }

    /// <summary>One run of the FMA loop on each of <paramref name="threads"/> threads, about 0.05 s.</summary>
    public static void RunOnThreads(int threads)
    {
        var helpers = new Thread[threads - 1];
        for (int i = 0; i < helpers.Length; i++)
        {
            helpers[i] = new Thread(() => Sink(Loop()));
            helpers[i].Start();
        }

        Sink(Loop());
        foreach (var helper in helpers)
        {
            helper.Join();
        }
    }

    private static float Loop() => Vector512.IsHardwareAccelerated ? Loop512() : Loop256();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Sink(float value) => GC.KeepAlive(value);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop512()
    {
        // x ← x·0.9999999 + 1e-7 stays finite and never denormal, so every FMA runs at full speed.
        var scale = Vector512.Create(0.9999999f);
        var shift = Vector512.Create(1e-7f);
        Vector512<float> x0 = Vector512.Create(0.10f), x1 = Vector512.Create(0.11f);
        Vector512<float> x2 = Vector512.Create(0.12f), x3 = Vector512.Create(0.13f);
        Vector512<float> x4 = Vector512.Create(0.14f), x5 = Vector512.Create(0.15f);
        Vector512<float> x6 = Vector512.Create(0.16f), x7 = Vector512.Create(0.17f);
        Vector512<float> x8 = Vector512.Create(0.18f), x9 = Vector512.Create(0.19f);
        Vector512<float> x10 = Vector512.Create(0.20f), x11 = Vector512.Create(0.21f);
        Vector512<float> x12 = Vector512.Create(0.22f), x13 = Vector512.Create(0.23f);
        Vector512<float> x14 = Vector512.Create(0.24f), x15 = Vector512.Create(0.25f);
        for (long i = 0; i < Iterations; i++)
        {
            x0 = Vector512.FusedMultiplyAdd(x0, scale, shift);
            x1 = Vector512.FusedMultiplyAdd(x1, scale, shift);
            x2 = Vector512.FusedMultiplyAdd(x2, scale, shift);
            x3 = Vector512.FusedMultiplyAdd(x3, scale, shift);
            x4 = Vector512.FusedMultiplyAdd(x4, scale, shift);
            x5 = Vector512.FusedMultiplyAdd(x5, scale, shift);
            x6 = Vector512.FusedMultiplyAdd(x6, scale, shift);
            x7 = Vector512.FusedMultiplyAdd(x7, scale, shift);
            x8 = Vector512.FusedMultiplyAdd(x8, scale, shift);
            x9 = Vector512.FusedMultiplyAdd(x9, scale, shift);
            x10 = Vector512.FusedMultiplyAdd(x10, scale, shift);
            x11 = Vector512.FusedMultiplyAdd(x11, scale, shift);
            x12 = Vector512.FusedMultiplyAdd(x12, scale, shift);
            x13 = Vector512.FusedMultiplyAdd(x13, scale, shift);
            x14 = Vector512.FusedMultiplyAdd(x14, scale, shift);
            x15 = Vector512.FusedMultiplyAdd(x15, scale, shift);
        }

        var sum = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7))
            + ((x8 + x9) + (x10 + x11)) + ((x12 + x13) + (x14 + x15));
        return Vector512.Sum(sum);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop256()
    {
        var scale = Vector256.Create(0.9999999f);
        var shift = Vector256.Create(1e-7f);
        Vector256<float> x0 = Vector256.Create(0.10f), x1 = Vector256.Create(0.11f);
        Vector256<float> x2 = Vector256.Create(0.12f), x3 = Vector256.Create(0.13f);
        Vector256<float> x4 = Vector256.Create(0.14f), x5 = Vector256.Create(0.15f);
        Vector256<float> x6 = Vector256.Create(0.16f), x7 = Vector256.Create(0.17f);
        Vector256<float> x8 = Vector256.Create(0.18f), x9 = Vector256.Create(0.19f);
        Vector256<float> x10 = Vector256.Create(0.20f), x11 = Vector256.Create(0.21f);
        for (long i = 0; i < Iterations; i++)
        {
            x0 = Vector256.FusedMultiplyAdd(x0, scale, shift);
            x1 = Vector256.FusedMultiplyAdd(x1, scale, shift);
            x2 = Vector256.FusedMultiplyAdd(x2, scale, shift);
            x3 = Vector256.FusedMultiplyAdd(x3, scale, shift);
            x4 = Vector256.FusedMultiplyAdd(x4, scale, shift);
            x5 = Vector256.FusedMultiplyAdd(x5, scale, shift);
            x6 = Vector256.FusedMultiplyAdd(x6, scale, shift);
            x7 = Vector256.FusedMultiplyAdd(x7, scale, shift);
            x8 = Vector256.FusedMultiplyAdd(x8, scale, shift);
            x9 = Vector256.FusedMultiplyAdd(x9, scale, shift);
            x10 = Vector256.FusedMultiplyAdd(x10, scale, shift);
            x11 = Vector256.FusedMultiplyAdd(x11, scale, shift);
        }

        var sum = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7)) + ((x8 + x9) + (x10 + x11));
        return Vector256.Sum(sum);
    }
}
