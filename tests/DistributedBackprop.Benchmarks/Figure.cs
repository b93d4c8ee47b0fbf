namespace DistributedBackprop.Benchmarks;

/// <summary>
/// One measured figure: the benchmark's name and ordered named fields, which become the columns of the
/// human table and the properties of a JSON line.
/// </summary>
internal sealed record Figure(string Benchmark, IReadOnlyList<KeyValuePair<string, object>> Fields);
