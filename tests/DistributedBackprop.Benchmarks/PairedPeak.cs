using System.Diagnostics;

namespace DistributedBackprop.Benchmarks;

/// <summary>
/// A kernel's speed as a share of the FMA peak measured right beside it: samples of the kernel alternate with
/// runs of the FMA loop on the same number of threads, each sample is divided by the peak of the runs on
/// either side of it, and the median of those ratios is reported. On a machine shared with other tenants the
/// peak of the moment moves by tens of percent within seconds; pairing cancels most of that drift, where a
/// peak measured once at the start of the run would not.
/// </summary>
internal static class PairedPeak
{
    // Odd, so the median is one sample; at least five repetitions as the issue asks.
    private const int Pairs = 7;

    /// <summary>
    /// Runs <paramref name="action"/>, which does <paramref name="flopsPerCall"/> floating-point operations,
    /// alternately with the FMA loop on <paramref name="threads"/> threads.
    /// </summary>
    public static PairedFigure Measure(int threads, double flopsPerCall, Action action)
    {
        Timing.WarmUp(action);

        var clock = Stopwatch.StartNew();
        action();
        double once = Math.Max(clock.Elapsed.TotalSeconds, 1e-7);
        int callsPerSample = (int)Math.Clamp(Math.Ceiling(Timing.MinimumSampleSeconds / once), 1, 100_000);

        var gflops = new double[Pairs];
        var peaks = new double[Pairs];
        var ratios = new double[Pairs];
        double peakBefore = PeakSample(threads);
        for (int s = 0; s < Pairs; s++)
        {
            clock.Restart();
            for (int i = 0; i < callsPerSample; i++)
            {
                action();
            }

            gflops[s] = flopsPerCall * callsPerSample / clock.Elapsed.TotalSeconds / 1e9;
            double peakAfter = PeakSample(threads);
            peaks[s] = (peakBefore + peakAfter) / 2;
            ratios[s] = gflops[s] / peaks[s];
            peakBefore = peakAfter;
        }

        Array.Sort(gflops);
        Array.Sort(peaks);
        Array.Sort(ratios);
        return new PairedFigure(gflops[Pairs / 2], peaks[Pairs / 2], 100.0 * ratios[Pairs / 2]);
    }

    private static double PeakSample(int threads)
    {
        long start = Stopwatch.GetTimestamp();
        FmaPeak.RunOnThreads(threads);
        return FmaPeak.FlopsPerRun(threads) / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e9;
    }
}

/// <summary>Median GFLOP/s, median paired peak GFLOP/s, and the median of the per-sample percentages.</summary>
internal readonly record struct PairedFigure(double Gflops, double PeakGflops, double PercentOfPeak);
