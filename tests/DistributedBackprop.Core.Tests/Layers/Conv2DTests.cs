using DistributedBackprop.Core.Kernels;
using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Layers;

public sealed class Conv2DTests
{
    private const double Tolerance = 1e-3;

    [Theory]
    [InlineData(3, 7, 5, 4, 3, 1, 0)]
    [InlineData(3, 7, 5, 4, 3, 1, 1)]
    [InlineData(2, 8, 6, 3, 3, 2, 0)]
    [InlineData(2, 8, 7, 3, 3, 2, 1)]
    [InlineData(4, 5, 9, 2, 1, 2, 0)]
    [InlineData(1, 6, 4, 5, 2, 1, 1)]
    [InlineData(5, 9, 11, 4, 3, 1, 1)] // 3×3 at stride 1 over 5 channels: Winograd F(2×2, 3×3)
    [InlineData(4, 8, 7, 3, 3, 1, 0)]
    public void Forward_VariousGeometries_MatchesDirectConvolution(
        int channels, int height, int width, int filters, int kernel, int stride, int padding)
    {
        var harness = new LayerHarness(new Conv2D(filters, kernel, stride, padding), [channels, height, width]);
        var bias = harness.Parameter("bias");
        for (int f = 0; f < filters; f++)
        {
            bias[f] = 0.1f * (f + 1);
        }

        var input = LayerHarness.RandomTensor(3, 2, channels, height, width);

        var output = harness.Layer.Forward(input, LayerHarness.Context(2));

        var expected = DoubleReference.Convolution(
            new DoubleReference.Image(ToDouble(input.Span), 2, channels, height, width),
            ToDouble(harness.Parameter("weight")),
            ToDouble(bias),
            filters,
            kernel,
            stride,
            padding);
        Assert.Equal([2, expected.Channels, expected.Height, expected.Width], output.Shape);
        for (int i = 0; i < expected.Values.Length; i++)
        {
            Assert.True(
                Math.Abs(expected.Values[i] - output[i]) <= 1e-5 * (1 + Math.Abs(expected.Values[i])),
                $"output[{i}] = {output[i]}, direct convolution gives {expected.Values[i]}");
        }
    }

    [Theory]
    [InlineData(3, 7, 5, 4, 3, 1, 0)]
    [InlineData(3, 7, 5, 4, 3, 1, 1)]
    [InlineData(2, 8, 6, 3, 3, 2, 0)]
    [InlineData(2, 9, 6, 3, 3, 2, 1)]
    [InlineData(3, 5, 6, 2, 1, 2, 0)]
    public void Backward_VariousGeometries_MatchesFiniteDifferences(
        int channels, int height, int width, int filters, int kernel, int stride, int padding)
    {
        var result = GradientCheck.Check(
            new Conv2D(filters, kernel, stride, padding), [channels, height, width], batch: 3, maxChecksPerTensor: 48);

        Assert.True(result.MaxInputError < Tolerance, $"input gradient error {result.MaxInputError}");
        Assert.True(result.MaxParameterError < Tolerance, $"parameter gradient error {result.MaxParameterError}");
    }

    // 3×3 at stride 1 over 4 or more channels runs as Winograd F(2×2, 3×3), whose float forward rounds a little
    // more than im2col's: differences are taken on a double-precision direct convolution instead.
    [Theory]
    [InlineData(5, 7, 6, 3, 1)]
    [InlineData(4, 6, 9, 2, 0)]
    [InlineData(8, 14, 14, 4, 1)]
    public void Backward_WinogradGeometries_MatchesDoublePrecisionDifferences(
        int channels, int height, int width, int filters, int padding)
    {
        const int batch = 3;
        int weightLength = filters * channels * 9;
        double[] Forward(double[] input, double[] parameters) =>
            DoubleReference.Convolution(
                new DoubleReference.Image(input, batch, channels, height, width),
                parameters.AsSpan(0, weightLength),
                parameters.AsSpan(weightLength),
                filters,
                3,
                1,
                padding).Values;

        var result = GradientCheck.Check(
            new Conv2D(filters, 3, 1, padding),
            [channels, height, width],
            batch,
            maxChecksPerTensor: 48,
            doubleForward: Forward);

        Assert.True(result.MaxForwardError < 1e-5, $"forward error {result.MaxForwardError}");
        Assert.True(result.MaxInputError < 1e-4, $"input gradient error {result.MaxInputError}");
        Assert.True(result.MaxParameterError < 1e-4, $"parameter gradient error {result.MaxParameterError}");
    }

    [Fact]
    public void ForwardBackward_ThreadCounts_BitIdentical()
    {
        float[]? referenceOutput = null;
        float[]? referenceInputGradient = null;
        float[]? referenceGradients = null;
        foreach (int threads in new[] { 1, 2, 4, 8 })
        {
            var harness = new LayerHarness(new Conv2D(5, 3, 2, 1), [3, 9, 8]);
            var input = LayerHarness.RandomTensor(7, 6, 3, 9, 8);
            var context = LayerHarness.Context(6, threads: threads);

            var output = harness.Layer.Forward(input, context).Span.ToArray();
            var outputGradient = LayerHarness.RandomTensor(8, ShapeUtil.WithBatch(6, harness.Layer.OutputShape));
            var inputGradient = harness.Layer.Backward(outputGradient, context, true)!.Span.ToArray();

            referenceOutput ??= output;
            referenceInputGradient ??= inputGradient;
            referenceGradients ??= harness.Gradients.ToArray();
            Assert.Equal(referenceOutput, output);
            Assert.Equal(referenceInputGradient, inputGradient);
            Assert.Equal(referenceGradients, harness.Gradients);
        }
    }

    // One input channel gives 9 column rows, fewer than a GEMM tile: the weight gradient is split by groups of 8
    // filters instead of by column rows (20 filters: two whole groups and a partial one), and 28×28 images over
    // a batch of 9 make several uneven groups of samples.
    [Fact]
    public void ForwardBackward_OneInputChannel_ThreadCountsBitIdentical()
    {
        const int batch = 9;
        int[] sampleShape = [1, 28, 28];
        float[]? referenceOutput = null;
        float[]? referenceGradients = null;
        foreach (int threads in new[] { 1, 2, 3, 5 })
        {
            var harness = new LayerHarness(new Conv2D(20, 3, 1, 1), sampleShape);
            var input = LayerHarness.RandomTensor(3, ShapeUtil.WithBatch(batch, sampleShape));
            var outputGradient = LayerHarness.RandomTensor(4, ShapeUtil.WithBatch(batch, harness.Layer.OutputShape));
            var context = LayerHarness.Context(batch, threads: threads);

            var output = harness.Layer.Forward(input, context).Span.ToArray();
            harness.Layer.Backward(outputGradient, context, needInputGradient: false);

            referenceOutput ??= output;
            referenceGradients ??= harness.Gradients.ToArray();
            Assert.Equal(referenceOutput, output);
            Assert.Equal(referenceGradients, harness.Gradients);
        }
    }

    // Four input channels give 36 column rows: up to 3 threads split the weight gradient by rows, rebuilding each
    // group's columns in backward (with the strided im2col too), and more threads split it by filters over the
    // columns forward kept. 30×30 images over a batch of 9 make several groups. Every path must give the bits of
    // one thread, after a training or an evaluation-mode forward.
    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(1, false)]
    public void ForwardBackward_ManyColumnRows_ThreadCountsBitIdentical(int stride, bool training)
    {
        const int batch = 9;
        int[] sampleShape = [4, 30, 30];
        float[]? referenceOutput = null;
        float[]? referenceInputGradient = null;
        float[]? referenceGradients = null;
        foreach (int threads in new[] { 1, 2, 3, 4, 5 })
        {
            var harness = new LayerHarness(new Conv2D(6, 3, stride, 1), sampleShape);
            var input = LayerHarness.RandomTensor(31, ShapeUtil.WithBatch(batch, sampleShape));
            var outputGradient = LayerHarness.RandomTensor(
                32, ShapeUtil.WithBatch(batch, harness.Layer.OutputShape));
            var context = LayerHarness.Context(batch, training: training, threads: threads);

            var output = harness.Layer.Forward(input, context).Span.ToArray();
            var inputGradient = harness.Layer.Backward(outputGradient, context, true)!.Span.ToArray();

            referenceOutput ??= output;
            referenceInputGradient ??= inputGradient;
            referenceGradients ??= harness.Gradients.ToArray();
            Assert.Equal(referenceOutput, output);
            Assert.Equal(referenceInputGradient, inputGradient);
            Assert.Equal(referenceGradients, harness.Gradients);
        }
    }

    // The bias gradient is taken from row sums during the gather of dY (input gradient wanted, or many column
    // rows) or read from dY directly (first layer): either way Σ over samples, in double, of each row's
    // fixed-lane float sum.
    [Theory]
    [InlineData(1, false, 2)]
    [InlineData(1, true, 2)]
    [InlineData(4, false, 1)]
    [InlineData(4, true, 3)]
    public void Backward_BiasGradient_IsTheDoubleSumOfOrderedRowSums(int channels, bool needInputGradient, int threads)
    {
        const int batch = 5;
        const int filters = 6;
        int[] sampleShape = [channels, 12, 12];
        var harness = new LayerHarness(new Conv2D(filters, 3, 1, 1), sampleShape);
        var input = LayerHarness.RandomTensor(21, ShapeUtil.WithBatch(batch, sampleShape));
        var outputGradient = LayerHarness.RandomTensor(22, ShapeUtil.WithBatch(batch, harness.Layer.OutputShape));
        var context = LayerHarness.Context(batch, threads: threads);

        harness.Layer.Forward(input, context);
        harness.Layer.Backward(outputGradient, context, needInputGradient);

        var bias = harness.Gradient("bias");
        for (int f = 0; f < filters; f++)
        {
            double sum = 0;
            for (int b = 0; b < batch; b++)
            {
                sum += OrderedSum.Sum(outputGradient.Span.Slice((b * filters + f) * 144, 144));
            }

            Assert.Equal(BitConverter.SingleToInt32Bits((float)sum), BitConverter.SingleToInt32Bits(bias[f]));
        }
    }

    // A 30×30 image gives 900 output positions, so a batch of 7 spans several sample groups (the last one short):
    // the grouped path must agree with each sample computed alone, on any thread count, and a backward after an
    // evaluation-mode forward must rebuild the same columns a training forward keeps. Over 5 channels the layer
    // runs as Winograd F(2×2, 3×3): one sample per group at 30×30, several at 14×14.
    [Theory]
    [InlineData(1, true, 2, 30)]
    [InlineData(2, true, 2, 30)]
    [InlineData(3, false, 2, 30)]
    [InlineData(1, true, 5, 30)]
    [InlineData(2, true, 5, 14)]
    [InlineData(3, false, 5, 14)]
    [InlineData(3, true, 5, 30)]
    public void ForwardBackward_SeveralSampleGroups_MatchSamplesComputedAlone(
        int threads, bool training, int channels, int size)
    {
        const int batch = 7;
        int[] sampleShape = [channels, size, size];
        var harness = new LayerHarness(new Conv2D(3, 3, 1, 1), sampleShape);
        var input = LayerHarness.RandomTensor(11, ShapeUtil.WithBatch(batch, sampleShape));
        var outputGradient = LayerHarness.RandomTensor(12, ShapeUtil.WithBatch(batch, harness.Layer.OutputShape));
        var context = LayerHarness.Context(batch, training: training, threads: threads);

        var output = harness.Layer.Forward(input, context).Span.ToArray();
        var inputGradient = harness.Layer.Backward(outputGradient, context, true)!.Span.ToArray();
        var gradients = harness.Gradients.ToArray();

        int inLength = (int)ShapeUtil.Product(sampleShape);
        int outLength = (int)ShapeUtil.Product(harness.Layer.OutputShape);
        var summed = new double[gradients.Length];
        for (int b = 0; b < batch; b++)
        {
            var single = new Tensor(input.Span.Slice(b * inLength, inLength).ToArray(), 0, [1, .. sampleShape]);
            var singleGradient = new Tensor(
                outputGradient.Span.Slice(b * outLength, outLength).ToArray(), 0, [1, .. harness.Layer.OutputShape]);
            var one = LayerHarness.Context(1);

            var singleOutput = harness.Layer.Forward(single, one).Span.ToArray();
            var singleInputGradient = harness.Layer.Backward(singleGradient, one, true)!.Span.ToArray();

            Assert.Equal(output.AsSpan(b * outLength, outLength).ToArray(), singleOutput);
            Assert.Equal(inputGradient.AsSpan(b * inLength, inLength).ToArray(), singleInputGradient);
            for (int i = 0; i < summed.Length; i++)
            {
                summed[i] += harness.Gradients[i];
            }
        }

        for (int i = 0; i < summed.Length; i++)
        {
            Assert.True(
                Math.Abs(gradients[i] - summed[i]) <= 1e-4 * (1 + Math.Abs(summed[i])),
                $"parameter gradient {i}: {gradients[i]} vs per-sample sum {summed[i]}");
        }
    }

    [Fact]
    public void Backward_CalledTwice_OverwritesGradients()
    {
        var harness = new LayerHarness(new Conv2D(2, 3, 1, 1), [2, 5, 5]);
        var input = LayerHarness.RandomTensor(1, 2, 2, 5, 5);
        var context = LayerHarness.Context(2);
        var outputGradient = LayerHarness.RandomTensor(2, 2, 2, 5, 5);

        harness.Layer.Forward(input, context);
        harness.Layer.Backward(outputGradient, context, needInputGradient: false);
        var first = harness.Gradients.ToArray();
        harness.Layer.Forward(input, context);
        var inputGradient = harness.Layer.Backward(outputGradient, context, needInputGradient: false);

        Assert.Null(inputGradient);
        Assert.Equal(first, harness.Gradients);
    }

    [Fact]
    public void Initialize_HeNormal_HasExpectedSpreadAndZeroBias()
    {
        var harness = new LayerHarness(new Conv2D(64, 3), [16, 8, 8], seed: 42);

        var weight = harness.Parameter("weight").ToArray();
        double mean = weight.Average(w => (double)w);
        double std = Math.Sqrt(weight.Average(w => (w - mean) * (w - mean)));

        double expected = Math.Sqrt(2.0 / (16 * 3 * 3));
        Assert.InRange(std, expected * 0.95, expected * 1.05);
        Assert.InRange(mean, -0.05 * expected, 0.05 * expected);
        Assert.All(harness.Parameter("bias").ToArray(), b => Assert.Equal(0f, b));
    }

    [Fact]
    public void Build_DeclaresWeightAndBiasSegments()
    {
        var harness = new LayerHarness(new Conv2D(6, 5), [3, 32, 32]);

        Assert.Equal([6, 28, 28], harness.Layer.OutputShape);
        Assert.Equal([6, 3, 5, 5], harness.Layout["weight"].Shape);
        Assert.Equal(ParameterKind.Weight, harness.Layout["weight"].Kind);
        Assert.Equal([6], harness.Layout["bias"].Shape);
        Assert.Equal(ParameterKind.Bias, harness.Layout["bias"].Kind);
    }

    [Theory]
    [InlineData(0, 3, 1, 0, "filters")]
    [InlineData(4, 0, 1, 0, "kernelSize")]
    [InlineData(4, 3, 0, 0, "stride")]
    [InlineData(4, 3, 1, -1, "padding")]
    public void Constructor_InvalidArgument_ThrowsNamingField(
        int filters, int kernel, int stride, int padding, string field)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => new Conv2D(filters, kernel, stride, padding));

        Assert.Equal(field, error.ParamName);
    }

    [Fact]
    public void Build_KernelLargerThanInput_ThrowsNamingShapes()
    {
        var error = Assert.Throws<ArgumentException>(
            () => new Conv2D(4, 5, 1, 1).Build([3, 2, 8], new ParameterLayoutBuilder()));

        Assert.Contains("(3, 2, 8)", error.Message, StringComparison.Ordinal);
        Assert.Contains("kernelSize 5", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_InputNotRankThree_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => new Conv2D(4, 3).Build([10], new ParameterLayoutBuilder()));

        Assert.Contains("(10)", error.Message, StringComparison.Ordinal);
    }

    private static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = values[i];
        }

        return result;
    }
}
