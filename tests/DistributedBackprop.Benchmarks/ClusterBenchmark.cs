using System.Globalization;
using DistributedBackprop.Benchmarks.Clusters;
using DistributedBackprop.Cluster.Runs;

namespace DistributedBackprop.Benchmarks;

/// <summary>
/// The cluster against the single-process trainer on the same runs (Fashion-MNIST subset, global batch 128,
/// M = 4, Adam, same seed), last epoch of two, evaluation excluded:
/// 1. an embedded cluster (one in-process silo hosted as the server hosts it, 4 workers, 2 shards);
/// 2. three server processes on 127.0.0.1 joined through a private redis-server (4 workers, 3 shards).
/// For each: samples/s as a percentage of one process, final parameters checked bit for bit, the step split
/// into compute, transfer, optimizer and waiting; for the processes also the bytes that crossed silos per step
/// and worker against a naive parameter server's 2×|parameters|×4, and the transfer rate against raw loopback
/// TCP measured in the same run with the same payload size.
/// </summary>
internal sealed class ClusterBenchmark : IBenchmark
{
    private const int Workers = 4;
    private const int EmbeddedShards = 2;
    private const int Processes = 3;
    private const int ProcessShards = 3;
    private const int TestRows = 1000;

    // Training rows per model: enough steps per epoch for a steady measurement, few enough for tens of seconds.
    private static readonly (string Preset, int TrainRows)[] Models = [("mlp", 128 * 100), ("cnn", 128 * 25)];

    public string Name => "cluster";

    public void Run(BenchmarkContext context) => RunAsync(context).GetAwaiter().GetResult();

    // Figures are held until the end and written grouped, one table per kind; progress goes to stderr.
    private static async Task RunAsync(BenchmarkContext context)
    {
        var subsets = Models.ToDictionary(m => m.Preset, m => DatasetSubset.Write(m.TrainRows, TestRows));
        var figures = new Figures();
        try
        {
            await using (var silo = await EmbeddedSilo.StartAsync())
            {
                foreach (var (preset, _) in Models)
                {
                    var spec = BenchmarkRuns.Spec(preset, subsets[preset].Directory, Workers, EmbeddedShards);
                    var single = MeasureSingle(spec);
                    Progress($"embedded {preset}");
                    var run = await BenchmarkRuns.ClusterAsync(silo.Grains, "bench-embedded-" + preset, spec);
                    Add(figures, "embedded", preset, spec, single, run, ">=90");
                }
            }

            Progress($"starting redis-server and {Processes} silo processes");
            await using var processes = await SiloProcesses.StartAsync(Processes, TimeSpan.FromMinutes(2));
            foreach (var (preset, _) in Models)
            {
                var spec = BenchmarkRuns.Spec(preset, subsets[preset].Directory, Workers, ProcessShards);
                var single = MeasureSingle(spec);
                Progress($"{Processes} processes {preset}");
                var run = await BenchmarkRuns.ClusterAsync(processes.Grains, "bench-processes-" + preset, spec);
                string goal = preset == "cnn" ? ">=60" : "-";
                Add(figures, $"{Processes} processes", preset, spec, single, run, goal);
                AddTransfer(figures, preset, spec, single.Parameters.Length, run);
            }
        }
        finally
        {
            foreach (var subset in subsets.Values)
            {
                subset.Dispose();
            }
        }

        foreach (var figure in figures.Throughput.Concat(figures.Steps).Concat(figures.Transfers))
        {
            context.Report(figure.Benchmark, [.. figure.Fields]);
        }

        if (figures.Mismatches.Count > 0)
        {
            throw new InvalidOperationException(
                "Cluster parameters differ from the single-process trainer's: "
                + string.Join("; ", figures.Mismatches));
        }
    }

    // Measured next to each cluster run, so both see about the same load from the machine's other tenants.
    private static SingleProcessResult MeasureSingle(Contracts.V1.RunSpec spec)
    {
        Progress($"single process {spec.Preset}");
        return BenchmarkRuns.Single(spec);
    }

    private static void Progress(string what) =>
        Console.Error.WriteLine($"cluster: {what} (load {LoadAverage():F1})");

    private static void Add(
        Figures figures,
        string setup,
        string preset,
        Contracts.V1.RunSpec spec,
        SingleProcessResult single,
        ClusterResult run,
        string goal)
    {
        bool identical = BenchmarkRuns.BitIdentical(single.Parameters, run.Parameters);
        if (!identical)
        {
            figures.Mismatches.Add($"{setup} {preset}");
        }

        figures.Throughput.Add(Figure(
            "cluster",
            new("setup", setup),
            new("model", preset),
            new("workers", spec.Workers),
            new("shards", spec.ParameterShards),
            new("silos", run.Timings.Silos),
            new("singleSamplesPerSecond", single.SamplesPerSecond),
            new("clusterSamplesPerSecond", run.SamplesPerSecond),
            new("percentOfSingle", 100 * run.SamplesPerSecond / single.SamplesPerSecond),
            new("goalPercent", goal),
            new("bitIdentical", identical),
            new("load1m", LoadAverage())));

        var split = StepSplit.From(run.Timings);
        figures.Steps.Add(Figure(
            "cluster-step",
            new("setup", setup),
            new("model", preset),
            new("stepMs", split.StepMs),
            new("computeMs", split.ComputeMs),
            new("transferMs", split.TransferMs),
            new("optimizerMs", split.OptimizerMs),
            new("waitingMs", split.WaitingMs),
            new("computePercent", split.Percent(split.ComputeMs)),
            new("transferPercent", split.Percent(split.TransferMs)),
            new("optimizerPercent", split.Percent(split.OptimizerMs)),
            new("waitingPercent", split.Percent(split.WaitingMs))));
    }

    // Raw TCP is measured right after the run, with the silos idle, on one shard slice: the payload of every
    // push and every fetch that crosses silos here (one node per silo once local workers have joined theirs).
    private static void AddTransfer(
        Figures figures,
        string preset,
        Contracts.V1.RunSpec spec,
        int parameterCount,
        ClusterResult run)
    {
        var t = run.Timings;
        long crossSiloBytes = t.Push.CrossSiloBytes + t.Pull.CrossSiloBytes;
        double perStepPerWorker = (double)crossSiloBytes / t.Steps / t.Workers;
        double naive = 2.0 * parameterCount * sizeof(float);
        double rate = crossSiloBytes / (t.Push.Seconds + t.Pull.Seconds);
        var slices = RunPlan.ShardRanges(parameterCount, spec.ParameterShards);
        int payload = (int)slices.Average(s => s.Length) * sizeof(float);
        double raw = LoopbackTcp.BytesPerSecond(payload);
        figures.Transfers.Add(Figure(
            "cluster-transfer",
            new("setup", $"{Processes} processes"),
            new("model", preset),
            new("parameters", parameterCount),
            new("bytesPerStepPerWorker", perStepPerWorker),
            new("naiveBytesPerStepPerWorker", naive),
            new("percentOfNaive", 100 * perStepPerWorker / naive),
            new("payloadBytes", payload),
            new("transferMBps", rate / 1e6),
            new("rawTcpMBps", raw / 1e6),
            new("percentOfRawTcp", 100 * rate / raw),
            new("goalPercent", ">=50")));
    }

    private static Figure Figure(string benchmark, params KeyValuePair<string, object>[] fields) =>
        new(benchmark, fields);

    private static double LoadAverage() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);

    private sealed class Figures
    {
        public List<Figure> Throughput { get; } = [];

        public List<Figure> Steps { get; } = [];

        public List<Figure> Transfers { get; } = [];

        public List<string> Mismatches { get; } = [];
    }
}
