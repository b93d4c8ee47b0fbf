using System.Diagnostics;
using DistributedBackprop.Core.Kernels;
using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Losses;
using DistributedBackprop.Core.Models;
using DistributedBackprop.Core.Reduction;
using DistributedBackprop.Core.Tensors;
using DistributedBackprop.Core.Training;

namespace DistributedBackprop.Benchmarks;

/// <summary>
/// Where one CNN training step spends its time (<c>cnn --profile</c>): each layer's forward and backward, the
/// loss, and the step's gradient phases (copy into the accumulator, tree sum, norm, optimizer), in ms per step
/// (all micro-batches). Beside each convolution, its GEMMs alone on the same shapes, so that the rest of the
/// layer (im2col, col2im, layout copies, bias) reads as the difference. Layer times are the fastest of
/// several repetitions: on a shared machine that is the steadiest estimate of a phase's own cost.
/// </summary>
internal static class CnnProfile
{
    private const int Repetitions = 21;

    public static void Run(BenchmarkContext context, int threads, int microBatches)
    {
        var trainer = TrainingBench.CreateTrainer(Presets.Cnn, threads, microBatches);
        var model = trainer.Model;
        int microBatch = TrainingBench.Batch / microBatches;
        var layers = model.Layers;
        var (input, labels) = Batch(microBatch);
        var layerContext = new LayerContext
        {
            Training = true,
            Threads = threads,
            Seed = 1,
            SampleIds = Enumerable.Range(0, microBatch).ToArray(),
            BatchFraction = 1f / microBatches,
        };
        var loss = new SoftmaxCrossEntropyLoss();

        var forward = new double[layers.Count][];
        var backward = new double[layers.Count][];
        for (int i = 0; i < layers.Count; i++)
        {
            forward[i] = new double[Repetitions];
            backward[i] = new double[Repetitions];
        }

        var lossTimes = new double[Repetitions];
        for (int r = -5; r < Repetitions; r++)
        {
            var x = input;
            for (int i = 0; i < layers.Count; i++)
            {
                long start = Stopwatch.GetTimestamp();
                x = layers[i].Forward(x, layerContext);
                Record(forward[i], r, start);
            }

            long lossStart = Stopwatch.GetTimestamp();
            var output = loss.Compute(x, LossTargets.FromLabels(labels), 1f / TrainingBench.Batch);
            Record(lossTimes, r, lossStart);

            var g = output.Gradient;
            for (int i = layers.Count - 1; i >= 0; i--)
            {
                long start = Stopwatch.GetTimestamp();
                g = layers[i].Backward(g, layerContext, needInputGradient: i > 0)!;
                Record(backward[i], r, start);
            }
        }

        double total = 0;
        for (int i = 0; i < layers.Count; i++)
        {
            double f = forward[i].Min() * microBatches;
            double b = backward[i].Min() * microBatches;
            total += f + b;
            Report(context, $"{i}:{layers[i].Type} forward", f);
            Report(context, $"{i}:{layers[i].Type} backward", b);
            if (layers[i] is Conv2D conv)
            {
                ReportConvGemms(context, conv, microBatch, microBatches, threads);
            }
        }

        double lossMs = lossTimes.Min() * microBatches;
        total += lossMs;
        Report(context, "loss", lossMs);
        total += ReportStepPhases(context, trainer, microBatches);
        Report(context, "sum of the above", total);
    }

    // The GEMMs Conv2D runs per micro-batch, on one (C·k·k, batch·OH·OW) column matrix.
    private static void ReportConvGemms(
        BenchmarkContext context,
        Conv2D conv,
        int microBatch,
        int microBatches,
        int threads)
    {
        var g = new ConvGeometry(
            conv.InputShape[0], conv.InputShape[1], conv.InputShape[2], conv.KernelSize, conv.Stride, conv.Padding);
        int rows = g.ColumnRows;
        int width = microBatch * g.ColumnCount;
        int filters = conv.Filters;
        var weight = Filled(filters * rows);
        var columns = Filled(rows * width);
        var product = Filled(filters * width);
        var weightGradient = new float[filters * rows];
        double forward = Timing.MedianSeconds(() => Gemm.Multiply(
            Transpose.No, Transpose.No, filters, width, rows, weight, columns, product, threads: threads));
        double weightGemm = Timing.MedianSeconds(() => Gemm.Multiply(
            Transpose.No, Transpose.Yes, filters, rows, width, product, columns, weightGradient, threads: threads));
        double inputGemm = Timing.MedianSeconds(() => Gemm.Multiply(
            Transpose.Yes, Transpose.No, rows, width, filters, weight, product, columns, threads: threads));
        // Few-row convolutions compute dW with NarrowWeightGradient instead (split by groups of 8 filters).
        double narrowWeight = double.NaN;
        if (rows <= NarrowWeightGradient.MaxRows && NarrowWeightGradient.IsSupported)
        {
            var packed = new float[8 * g.ColumnCount];
            narrowWeight = Timing.MedianSeconds(() => NarrowWeightGradient.Accumulate(
                product, microBatch, filters, g.ColumnCount, columns, rows, width, weightGradient, 0, filters,
                accumulate: false, packed));
        }

        var image = Filled(g.ImageLength);
        var sampleColumns = new float[rows * g.ColumnCount];
        double im2col = Timing.MedianSeconds(() =>
        {
            for (int i = 0; i < microBatch; i++)
            {
                Im2Col.ImageToColumns(g, image, sampleColumns);
            }
        });
        double col2im = Timing.MedianSeconds(() =>
        {
            for (int i = 0; i < microBatch; i++)
            {
                Im2Col.ColumnsToImage(g, sampleColumns, image, g.ColumnCount);
            }
        });

        string name = $"  conv {filters}x{rows}x{width}";
        double flops = 2.0 * filters * rows * width;
        Report(context, $"{name} GEMM fwd", forward * 1e3 * microBatches, flops / forward / 1e9);
        Report(context, $"{name} GEMM dW", weightGemm * 1e3 * microBatches, flops / weightGemm / 1e9);
        if (!double.IsNaN(narrowWeight))
        {
            Report(
                context, $"{name} narrow dW (1 thread)", narrowWeight * 1e3 * microBatches, flops / narrowWeight / 1e9);
        }

        Report(context, $"{name} GEMM dX", inputGemm * 1e3 * microBatches, flops / inputGemm / 1e9);
        Report(context, $"{name} im2col (1 thread)", im2col * 1e3 * microBatches);
        Report(context, $"{name} col2im (1 thread)", col2im * 1e3 * microBatches);
    }

    // Returns the ms per step of the phases that run once per step or once per micro-batch outside the layers.
    private static double ReportStepPhases(BenchmarkContext context, Trainer trainer, int microBatches)
    {
        var model = trainer.Model;
        int length = model.Layout.Count;
        var leaf = new float[length];
        var sum = new float[length];
        // The copy the trainer no longer makes (layers write into the tree's leaves): shown, not counted.
        double copy = Timing.MedianSeconds(() => model.Gradients.CopyTo(leaf, 0)) * microBatches;
        double add = Timing.MedianSeconds(() => MicroBatchTree.AddInPlace(sum, leaf)) * (microBatches - 1);
        var updater = new ParameterUpdater(
            model.Layout, new TrainingOptions { BatchSize = TrainingBench.Batch }, trainer.StepsPerEpoch, 0, length);
        var parameters = (float[])model.Parameters.Clone();
        double norm = Timing.MedianSeconds(() => updater.PrepareGradient(sum));
        long step = 0;
        double optimizer = Timing.MedianSeconds(() => updater.Apply(parameters, sum, step++, 1.0));
        Report(context, "(removed) gradient copy to leaf", copy * 1e3);
        Report(context, "micro-batch tree sum", add * 1e3);
        Report(context, "gradient norm", norm * 1e3);
        Report(context, "optimizer (Adam)", optimizer * 1e3);
        return (add + norm + optimizer) * 1e3;
    }

    private static (Tensor Input, int[] Labels) Batch(int size)
    {
        var train = TrainingBench.Data.Train;
        var input = new Tensor(train.BatchShape(size));
        var labels = new int[size];
        train.CopyRows(Enumerable.Range(0, size).ToArray(), input, labels);
        return (input, labels);
    }

    private static float[] Filled(int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (i * 37 % 101) / 101f - 0.5f;
        }

        return values;
    }

    private static void Record(double[] times, int repetition, long start)
    {
        if (repetition >= 0)
        {
            times[repetition] = Stopwatch.GetElapsedTime(start).TotalSeconds * 1e3;
        }
    }

    private static void Report(BenchmarkContext context, string phase, double msPerStep, double gflops = double.NaN) =>
        context.Report(
            "cnn-profile",
            new("phase", phase),
            new("msPerStep", msPerStep),
            new("gflops", double.IsNaN(gflops) ? "" : gflops.ToString("F1")));
}
