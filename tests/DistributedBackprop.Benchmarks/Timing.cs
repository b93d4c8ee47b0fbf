using System.Diagnostics;

namespace DistributedBackprop.Benchmarks;

/// <summary>
/// Tiny timing harness: a warm-up, then calls are batched so each sample lasts at least
/// <see cref="MinimumSampleSeconds"/>, and the median sample wins, which shrugs off the other tenants of a
/// shared machine better than the mean.
/// </summary>
internal static class Timing
{
    public const double MinimumSampleSeconds = 0.05;
    public const int Samples = 7;

    // Tiered JIT recompiles a method with full optimisation only after it has been called a while and a delay
    // has passed; three warm-up calls left the profile's gradient-norm row timing first-tier code, 2.7 ms where
    // the optimised call takes 0.1 ms.
    private const double WarmUpSeconds = 0.25;

    /// <summary>Median seconds per call of <paramref name="action"/>.</summary>
    public static double MedianSeconds(Action action)
    {
        WarmUp(action);

        var clock = Stopwatch.StartNew();
        action();
        double once = Math.Max(clock.Elapsed.TotalSeconds, 1e-7);
        int callsPerSample = (int)Math.Clamp(Math.Ceiling(MinimumSampleSeconds / once), 1, 100_000);

        var samples = new double[Samples];
        for (int s = 0; s < Samples; s++)
        {
            clock.Restart();
            for (int i = 0; i < callsPerSample; i++)
            {
                action();
            }

            samples[s] = clock.Elapsed.TotalSeconds / callsPerSample;
        }

        Array.Sort(samples);
        return samples[Samples / 2];
    }

    /// <summary>Calls <paramref name="action"/> at least three times and for at least a quarter of a second.</summary>
    public static void WarmUp(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 3 || clock.Elapsed.TotalSeconds < WarmUpSeconds; i++)
        {
            action();
        }
    }
}
