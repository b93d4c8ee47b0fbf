using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Layers;

public sealed class PoolingTests
{
    private const double Tolerance = 1e-3;

    [Theory]
    [InlineData(2, null)]
    [InlineData(3, 2)]
    [InlineData(2, 1)]
    public void MaxPool2D_Forward_MatchesWindowMaximum(int size, int? stride)
    {
        var harness = new LayerHarness(new MaxPool2D(size, stride), [3, 7, 6]);
        var input = LayerHarness.RandomTensor(4, 2, 3, 7, 6);

        var output = harness.Layer.Forward(input, LayerHarness.Context(2));

        var expected = NaivePool(input, size, stride ?? size, window => window.Max());
        Assert.Equal(expected.Shape, output.Shape);
        Assert.Equal(expected.Span.ToArray(), output.Span.ToArray());
    }

    [Theory]
    [InlineData(2, null)]
    [InlineData(3, 2)]
    [InlineData(2, 1)]
    public void MaxPool2D_Backward_MatchesFiniteDifferences(int size, int? stride)
    {
        // Max pooling is piecewise linear, so a small step is exact unless it crosses a tie.
        var result = GradientCheck.Check(new MaxPool2D(size, stride), [2, 7, 6], batch: 2, epsilon: 1e-3f);

        Assert.True(result.MaxInputError < Tolerance, $"input gradient error {result.MaxInputError}");
    }

    [Fact]
    public void MaxPool2D_Backward_TiedWindow_RoutesToFirstMaximum()
    {
        var harness = new LayerHarness(new MaxPool2D(2), [1, 2, 2]);
        var input = new Tensor([1f, 3f, 3f, 3f], 0, 1, 1, 2, 2);
        var context = LayerHarness.Context(1);

        harness.Layer.Forward(input, context);
        var gradient = harness.Layer.Backward(new Tensor([5f], 0, 1, 1, 1, 1), context, true)!;

        float[] expected = [0f, 5f, 0f, 0f];
        Assert.Equal(expected, gradient.Span.ToArray());
    }

    // Widths of 8 and more take the four-window vector path (14, 9: with an overlapping last block; 7: the
    // per-window path); even sizes the windows tile take the vector backward, odd ones the scatter. Values from
    // a set of five make ties common; each must go to the first maximum in row-major order, as in the scalar
    // loop below.
    [Theory]
    [InlineData(8, 6)]
    [InlineData(9, 5)]
    [InlineData(14, 6)]
    [InlineData(14, 5)]
    [InlineData(28, 4)]
    [InlineData(7, 5)]
    public void MaxPool2D_TwoByTwoWithTies_MatchesFirstMaximumInRowMajorOrder(int width, int height)
    {
        const int channels = 3;
        var harness = new LayerHarness(new MaxPool2D(2), [channels, height, width]);
        var input = LayerHarness.RandomTensor(6, 2, channels, height, width);
        var values = input.Span;
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = MathF.Round(values[i] * 2f);
        }

        var context = LayerHarness.Context(2);
        var output = harness.Layer.Forward(input, context).Span.ToArray();
        var outputGradient = LayerHarness.RandomTensor(7, ShapeUtil.WithBatch(2, harness.Layer.OutputShape));
        var inputGradient = harness.Layer.Backward(outputGradient, context, true)!.Span.ToArray();

        var expectedOutput = new float[output.Length];
        var expectedGradient = new float[inputGradient.Length];
        int outWidth = width / 2;
        int o = 0;
        for (int plane = 0; plane < 2 * channels; plane++)
        {
            for (int oh = 0; oh < height / 2; oh++)
            {
                for (int ow = 0; ow < outWidth; ow++, o++)
                {
                    int best = (plane * height + 2 * oh) * width + 2 * ow;
                    foreach (int candidate in new[] { best + 1, best + width, best + width + 1 })
                    {
                        best = values[candidate] > values[best] ? candidate : best;
                    }

                    expectedOutput[o] = values[best];
                    expectedGradient[best] += outputGradient.Span[o];
                }
            }
        }

        Assert.Equal(expectedOutput, output);
        Assert.Equal(
            expectedGradient.Select(BitConverter.SingleToInt32Bits),
            inputGradient.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void MaxPool2D_OverlappingWindows_AccumulatesSharedWinner()
    {
        var harness = new LayerHarness(new MaxPool2D(2, 1), [1, 2, 3]);
        var input = new Tensor([0f, 9f, 0f, 0f, 0f, 0f], 0, 1, 1, 2, 3);
        var context = LayerHarness.Context(1);

        var output = harness.Layer.Forward(input, context).Span.ToArray();
        var gradient = harness.Layer.Backward(new Tensor([1f, 2f], 0, 1, 1, 1, 2), context, true)!;

        float[] expectedOutput = [9f, 9f];
        float[] expectedGradient = [0f, 3f, 0f, 0f, 0f, 0f];
        Assert.Equal(expectedOutput, output);
        Assert.Equal(expectedGradient, gradient.Span.ToArray());
    }

    [Theory]
    [InlineData(2, null)]
    [InlineData(3, 2)]
    public void AvgPool2D_Forward_MatchesWindowMean(int size, int? stride)
    {
        var harness = new LayerHarness(new AvgPool2D(size, stride), [3, 7, 6]);
        var input = LayerHarness.RandomTensor(4, 2, 3, 7, 6);

        var output = harness.Layer.Forward(input, LayerHarness.Context(2));

        var expected = NaivePool(input, size, stride ?? size, window => window.Average());
        Assert.Equal(expected.Shape, output.Shape);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], output[i], 1e-5f);
        }
    }

    [Theory]
    [InlineData(2, null)]
    [InlineData(3, 2)]
    [InlineData(2, 1)]
    public void AvgPool2D_Backward_MatchesFiniteDifferences(int size, int? stride)
    {
        var result = GradientCheck.Check(new AvgPool2D(size, stride), [2, 7, 6], batch: 2);

        Assert.True(result.MaxInputError < Tolerance, $"input gradient error {result.MaxInputError}");
    }

    [Fact]
    public void GlobalAvgPool_Forward_MatchesPlaneMean()
    {
        var harness = new LayerHarness(new GlobalAvgPool(), [3, 4, 5]);
        var input = LayerHarness.RandomTensor(4, 2, 3, 4, 5);

        var output = harness.Layer.Forward(input, LayerHarness.Context(2));

        Assert.Equal([2, 3], output.Shape);
        for (int plane = 0; plane < 6; plane++)
        {
            double mean = input.Span.Slice(plane * 20, 20).ToArray().Average(v => (double)v);
            Assert.Equal(mean, output[plane], 1e-6);
        }
    }

    [Fact]
    public void GlobalAvgPool_Backward_MatchesFiniteDifferences()
    {
        var result = GradientCheck.Check(new GlobalAvgPool(), [3, 4, 5], batch: 2);

        Assert.True(result.MaxInputError < Tolerance, $"input gradient error {result.MaxInputError}");
    }

    [Fact]
    public void Pooling_ThreadCounts_BitIdentical()
    {
        foreach (var make in new Func<Layer>[] { () => new MaxPool2D(3, 2), () => new AvgPool2D(2, 1) })
        {
            float[]? referenceOutput = null;
            float[]? referenceGradient = null;
            foreach (int threads in new[] { 1, 2, 4 })
            {
                var harness = new LayerHarness(make(), [3, 9, 8]);
                var input = LayerHarness.RandomTensor(2, 5, 3, 9, 8);
                var context = LayerHarness.Context(5, threads: threads);

                var output = harness.Layer.Forward(input, context).Span.ToArray();
                var outputGradient = LayerHarness.RandomTensor(3, ShapeUtil.WithBatch(5, harness.Layer.OutputShape));
                var gradient = harness.Layer.Backward(outputGradient, context, true)!.Span.ToArray();

                referenceOutput ??= output;
                referenceGradient ??= gradient;
                Assert.Equal(referenceOutput, output);
                Assert.Equal(referenceGradient, gradient);
            }
        }
    }

    [Theory]
    [InlineData(0, null, "size")]
    [InlineData(2, 0, "stride")]
    public void Pooling_InvalidWindow_ThrowsNamingField(int size, int? stride, string field)
    {
        Assert.Equal(field, Assert.ThrowsAny<ArgumentException>(() => new MaxPool2D(size, stride)).ParamName);
        Assert.Equal(field, Assert.ThrowsAny<ArgumentException>(() => new AvgPool2D(size, stride)).ParamName);
    }

    [Fact]
    public void Pooling_WindowLargerThanInput_ThrowsNamingShape()
    {
        var error = Assert.Throws<ArgumentException>(
            () => new AvgPool2D(4).Build([2, 3, 8], new ParameterLayoutBuilder()));

        Assert.Contains("(2, 3, 8)", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new GlobalAvgPool().Build([8], new ParameterLayoutBuilder()));
    }

    // input: (batch, C, H, W) → (batch, C, OH, OW), each output the reduction of its window's values.
    private static Tensor NaivePool(Tensor input, int size, int stride, Func<IEnumerable<float>, float> reduce)
    {
        int batch = input.Shape[0], channels = input.Shape[1], height = input.Shape[2], width = input.Shape[3];
        int outHeight = (height - size) / stride + 1;
        int outWidth = (width - size) / stride + 1;
        var output = new Tensor(batch, channels, outHeight, outWidth);
        int o = 0;
        for (int plane = 0; plane < batch * channels; plane++)
        {
            for (int oh = 0; oh < outHeight; oh++)
            {
                for (int ow = 0; ow < outWidth; ow++)
                {
                    var window = new List<float>();
                    for (int i = 0; i < size; i++)
                    {
                        for (int j = 0; j < size; j++)
                        {
                            window.Add(input[(plane * height + oh * stride + i) * width + ow * stride + j]);
                        }
                    }

                    output[o++] = reduce(window);
                }
            }
        }

        return output;
    }
}
