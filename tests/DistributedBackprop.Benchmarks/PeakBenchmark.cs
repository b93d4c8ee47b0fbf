namespace DistributedBackprop.Benchmarks;

/// <summary>The single-precision FMA peak on 1 and 2 threads: the yardstick for every kernel figure.</summary>
internal sealed class PeakBenchmark : IBenchmark
{
    public string Name => "peak";

    public void Run(BenchmarkContext context)
    {
        foreach (int threads in new[] { 1, 2 })
        {
            context.Report(Name, new("threads", threads), new("gflops", context.PeakGflops(threads)));
        }
    }
}
