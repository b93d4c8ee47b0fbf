using System.Diagnostics;
using DistributedBackprop.Core.Data;
using DistributedBackprop.Core.Models;
using DistributedBackprop.Core.Training;

namespace DistributedBackprop.Benchmarks;

/// <summary>
/// Shared harness of the training benchmarks: builds a trainer on Fashion-MNIST (or, when it is not installed,
/// synthetic data of the same shape) and times <see cref="Trainer.Step"/> called directly, so evaluation,
/// progress reporting and data loading stay out of the figures.
/// </summary>
internal static class TrainingBench
{
    public const int Batch = 128;

    // Each repetition times this many consecutive steps; the median repetition is reported.
    public const int Repetitions = 7;

    private const int SyntheticRows = 4096;

    private const double WarmUpSeconds = 1.0;

    private static TrainTestDatasets? _data;

    /// <summary>Fashion-MNIST from the catalog, or a synthetic stand-in of the same shapes.</summary>
    public static TrainTestDatasets Data => _data ??= Load();

    /// <summary>Where the data came from, for the table: "fashion-mnist" or "synthetic".</summary>
    public static string DataName => Data.Source.Length == 0 ? "synthetic" : "fashion-mnist";

    public static Trainer CreateTrainer(ModelSpec spec, int threads, int microBatches) =>
        new(spec, Data.Train, Data.Test, new TrainingOptions
        {
            BatchSize = Batch,
            MicroBatches = microBatches,
            Threads = threads,
            Epochs = 1,
        });

    /// <summary>Steady-state timing and allocation of a trainer's steps.</summary>
    public static StepFigures Measure(Trainer trainer, int stepsPerRepetition)
    {
        int step = 0;
        void RunSteps(int count)
        {
            for (int i = 0; i < count; i++)
            {
                trainer.Step(0, step);
                step = (step + 1) % trainer.StepsPerEpoch;
            }
        }

        // Warm-up: buffers reach their steady size and tiered JIT reaches optimised code. By time as well as by
        // count: the JIT promotes methods 100 ms after the last new one appeared, in the background, so 50 fast
        // MLP steps (~50 ms) left some kernels unoptimised and the 2-thread figure read twice as slow in some runs.
        var warmUp = Stopwatch.StartNew();
        RunSteps(Math.Max(30, stepsPerRepetition));
        while (warmUp.Elapsed.TotalSeconds < WarmUpSeconds)
        {
            RunSteps(1);
        }

        var samples = new double[Repetitions];
        for (int r = 0; r < Repetitions; r++)
        {
            long start = Stopwatch.GetTimestamp();
            RunSteps(stepsPerRepetition);
            samples[r] = Stopwatch.GetElapsedTime(start).TotalSeconds / stepsPerRepetition;
        }

        Array.Sort(samples);

        long threadBefore = GC.GetAllocatedBytesForCurrentThread();
        long totalBefore = GC.GetTotalAllocatedBytes(precise: true);
        RunSteps(stepsPerRepetition);
        long threadBytes = GC.GetAllocatedBytesForCurrentThread() - threadBefore;
        long totalBytes = GC.GetTotalAllocatedBytes(precise: true) - totalBefore;

        return new StepFigures(
            samples[Repetitions / 2],
            (double)threadBytes / stepsPerRepetition,
            (double)totalBytes / stepsPerRepetition);
    }

    /// <summary>
    /// Useful FLOPs of one training step of the model's dense layers: forward 2·B·in·out, the weight gradient
    /// the same again, and the input gradient for every dense layer but the first layer of the model.
    /// </summary>
    public static double DenseFlopsPerStep(Model model, int batch)
    {
        double flops = 0;
        for (int i = 0; i < model.Layers.Count; i++)
        {
            var layer = model.Layers[i];
            if (layer.Type != "dense")
            {
                continue;
            }

            double product = 2.0 * batch * Product(layer.InputShape) * Product(layer.OutputShape);
            bool needsInputGradient = model.Layers.Take(i).Any(l => l.Type != "flatten");
            flops += needsInputGradient ? 3 * product : 2 * product;
        }

        return flops;
    }

    private static long Product(int[] shape) => shape.Aggregate(1L, (p, d) => p * d);

    private static TrainTestDatasets Load()
    {
        try
        {
            return DatasetCatalog.Default.Load("fashion-mnist");
        }
        catch (DatasetException)
        {
            return new TrainTestDatasets(Synthetic("train"), Synthetic("test"), "");
        }
    }

    // Pixels in [0, 1) and labels 0-9 from a fixed pattern: the speed of a step does not depend on the values.
    private static Dataset Synthetic(string name)
    {
        const int pixels = 28 * 28;
        var features = new float[SyntheticRows * pixels];
        var labels = new int[SyntheticRows];
        for (int i = 0; i < features.Length; i++)
        {
            features[i] = (i * 37 % 101) / 101f;
        }

        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = i * 7 % 10;
        }

        return new Dataset(name, features, labels, [1, 28, 28], 10);
    }
}

/// <summary>Median seconds per step and bytes allocated per step (calling thread only, and all threads).</summary>
internal readonly record struct StepFigures(double SecondsPerStep, double ThreadBytesPerStep, double BytesPerStep);
