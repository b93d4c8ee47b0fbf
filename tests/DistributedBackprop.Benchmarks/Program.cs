using DistributedBackprop.Benchmarks;

// Usage:
//   dotnet run -c Release --project tests/DistributedBackprop.Benchmarks -- [peak|gemm|mlp|cnn|cluster|all]... [--json]
//   Several names run those benchmarks in the registry's order, e.g. `gemm mlp cnn`.
//   cluster --embedded: only the embedded cluster (skips the redis-backed silo processes);
//   cluster --processes: only the silo processes; cluster --cnn or --mlp: only that model.
// To add a benchmark, implement IBenchmark and list it here; "all" runs every entry in this order.
IBenchmark[] registry =
[
    new PeakBenchmark(),
    new GemmBenchmark(),
    new MlpBenchmark(),
    new CnnBenchmark(),
    new ClusterBenchmark(),
];

bool json = args.Contains("--json");
var names = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
string[] unknown = names.Where(n => n != "all" && registry.All(b => b.Name != n)).ToArray();
if (unknown.Length > 0)
{
    string allowed = string.Join("|", registry.Select(b => b.Name).Append("all"));
    Console.Error.WriteLine($"Unknown benchmark '{string.Join("', '", unknown)}'; allowed: {allowed}.");
    return 2;
}

var selected = names.Count == 0 || names.Contains("all")
    ? registry
    : registry.Where(b => names.Contains(b.Name)).ToArray();

IFigureWriter writer = json ? new JsonFigureWriter(Console.Out) : new TableFigureWriter(Console.Out);
var context = new BenchmarkContext(writer, args.Where(a => a.StartsWith("--", StringComparison.Ordinal)).ToHashSet());
foreach (var benchmark in selected)
{
    benchmark.Run(context);
}

return 0;
