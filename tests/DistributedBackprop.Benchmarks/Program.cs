using DistributedBackprop.Benchmarks;

// Usage:
//   dotnet run -c Release --project tests/DistributedBackprop.Benchmarks -- [peak|gemm|mlp|cnn|cluster|all] [--json]
//   cluster --embedded: only the embedded cluster (skips the redis-backed silo processes).
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
string selection = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "all";
var selected = selection == "all" ? registry : registry.Where(b => b.Name == selection).ToArray();
if (selected.Length == 0)
{
    string allowed = string.Join("|", registry.Select(b => b.Name).Append("all"));
    Console.Error.WriteLine($"Unknown benchmark '{selection}'; allowed: {allowed}.");
    return 2;
}

IFigureWriter writer = json ? new JsonFigureWriter(Console.Out) : new TableFigureWriter(Console.Out);
var context = new BenchmarkContext(writer, args.Where(a => a.StartsWith("--", StringComparison.Ordinal)).ToHashSet());
foreach (var benchmark in selected)
{
    benchmark.Run(context);
}

return 0;
