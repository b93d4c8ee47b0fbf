namespace DistributedBackprop.Benchmarks;

/// <summary>What every benchmark shares: the figure writer and the measured FMA peak, measured once.</summary>
internal sealed class BenchmarkContext(IFigureWriter writer, IReadOnlySet<string> flags)
{
    private readonly Dictionary<int, double> _peakGflops = [];

    /// <summary>True when the command line gave <paramref name="flag"/> (e.g. <c>--embedded</c>).</summary>
    public bool Has(string flag) => flags.Contains(flag);

    public void Report(string benchmark, params KeyValuePair<string, object>[] fields) =>
        writer.Write(new Figure(benchmark, fields));

    /// <summary>Single-precision FMA peak in GFLOP/s on <paramref name="threads"/> threads.</summary>
    public double PeakGflops(int threads)
    {
        if (!_peakGflops.TryGetValue(threads, out double gflops))
        {
            gflops = FmaPeak.Measure(threads);
            _peakGflops[threads] = gflops;
        }

        return gflops;
    }
}
