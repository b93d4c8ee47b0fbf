using DistributedBackprop.Core.Models;

namespace DistributedBackprop.Benchmarks;

/// <summary>
/// The CNN preset's training throughput (batch 128, Adam, 2 threads) with 1 and 4 micro-batches, and bytes
/// allocated per steady-state step. With <c>--profile</c>, the time of each layer and phase of a step instead
/// (<see cref="CnnProfile"/>).
/// </summary>
internal sealed class CnnBenchmark : IBenchmark
{
    private const int Threads = 2;
    private const int StepsPerRepetition = 10;

    public string Name => "cnn";

    public void Run(BenchmarkContext context)
    {
        if (Environment.GetCommandLineArgs().Contains("--profile"))
        {
            CnnProfile.Run(context, Threads, microBatches: 4);
            return;
        }

        foreach (int microBatches in new[] { 1, 4 })
        {
            var trainer = TrainingBench.CreateTrainer(Presets.Cnn, Threads, microBatches);
            var figures = TrainingBench.Measure(trainer, StepsPerRepetition);
            context.Report(
                Name,
                new("data", TrainingBench.DataName),
                new("batch", TrainingBench.Batch),
                new("microBatches", microBatches),
                new("threads", Threads),
                new("msPerStep", figures.SecondsPerStep * 1e3),
                new("samplesPerSecond", TrainingBench.Batch / figures.SecondsPerStep),
                new("peakGflops", context.PeakGflops(Threads)),
                new("bytesPerStep", figures.BytesPerStep),
                new("threadBytesPerStep", figures.ThreadBytesPerStep));
        }
    }
}
