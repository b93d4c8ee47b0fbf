namespace DistributedBackprop.Benchmarks;

/// <summary>One named benchmark of the program; register it in Program.cs to make it selectable.</summary>
internal interface IBenchmark
{
    /// <summary>Name on the command line, lowercase.</summary>
    string Name { get; }

    /// <summary>Measures and reports each figure through <see cref="BenchmarkContext.Report"/>.</summary>
    void Run(BenchmarkContext context);
}
