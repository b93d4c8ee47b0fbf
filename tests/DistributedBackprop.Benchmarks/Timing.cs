using System.Diagnostics;

namespace DistributedBackprop.Benchmarks;

/// <summary>
/// Tiny timing harness: a warm-up run (which also lets tiered JIT reach optimised code), then calls are
/// batched so each sample lasts at least <see cref="MinimumSampleSeconds"/>, and the median sample wins,
/// which shrugs off the other tenants of a shared machine better than the mean.
/// </summary>
internal static class Timing
{
    public const double MinimumSampleSeconds = 0.05;
    public const int Samples = 7;

    /// <summary>Median seconds per call of <paramref name="action"/>.</summary>
    public static double MedianSeconds(Action action)
    {
        for (int i = 0; i < 3; i++)
        {
            action();
        }

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
}
