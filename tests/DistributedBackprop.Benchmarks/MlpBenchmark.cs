using DistributedBackprop.Core.Models;

namespace DistributedBackprop.Benchmarks;

/// <summary>
/// The MLP preset's training step (batch 128, Adam, one micro-batch) on 1 and 2 threads: ms per step, useful
/// GFLOP/s next to the FMA peak, and bytes allocated per steady-state step; then the same step timed in
/// samples paired with the FMA loop (<see cref="PairedPeak"/>), whose percentage holds on a busy machine.
/// </summary>
internal sealed class MlpBenchmark : IBenchmark
{
    private const int StepsPerRepetition = 50;

    public string Name => "mlp";

    public void Run(BenchmarkContext context)
    {
        foreach (int threads in new[] { 1, 2 })
        {
            var trainer = TrainingBench.CreateTrainer(Presets.Mlp, threads, microBatches: 1);
            var figures = TrainingBench.Measure(trainer, StepsPerRepetition);
            double flops = TrainingBench.DenseFlopsPerStep(trainer.Model, TrainingBench.Batch);
            double gflops = flops / figures.SecondsPerStep / 1e9;
            double peak = context.PeakGflops(threads);

            int step = 0;
            var paired = PairedPeak.Measure(threads, flops, () =>
            {
                trainer.Step(0, step);
                step = (step + 1) % trainer.StepsPerEpoch;
            });
            context.Report(
                Name,
                new("data", TrainingBench.DataName),
                new("batch", TrainingBench.Batch),
                new("microBatches", 1),
                new("threads", threads),
                new("msPerStep", figures.SecondsPerStep * 1e3),
                new("mflopPerStep", flops / 1e6),
                new("gflops", gflops),
                new("peakGflops", peak),
                new("percentOfPeak", 100.0 * gflops / peak),
                new("bytesPerStep", figures.BytesPerStep),
                new("threadBytesPerStep", figures.ThreadBytesPerStep),
                new("pairedMsPerStep", flops / paired.Gflops / 1e6),
                new("pairedPeakGflops", paired.PeakGflops),
                new("percentOfPairedPeak", paired.PercentOfPeak));
        }
    }
}
