using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Layers;

public sealed class DropoutTests
{
    [Fact]
    public void Backward_FixedMask_FiniteDifferencesMatchAnalyticGradient()
    {
        var result = GradientCheck.Check(new Dropout(0.4f), [10], batch: 3, epsilon: 1f);

        Assert.True(result.MaxInputError < 1e-3, $"input error {result.MaxInputError}");
        Assert.Equal(30, result.Checked);
    }

    [Fact]
    public void Forward_SampleInMicroBatch_SameMaskAsInFullBatch()
    {
        var full = new Dropout(0.5f);
        var micro = new Dropout(0.5f);
        _ = new LayerHarness(full, [3, 7]);
        _ = new LayerHarness(micro, [3, 7]);
        var input = Ones(8, [3, 7]);

        var fullOutput = full.Forward(input, LayerHarness.ContextFor(true, batch: 8, step: 12, seed: 5));
        var microOutput = micro.Forward(Ones(2, [3, 7]), LayerHarness.ContextFor(true, 2, firstSampleId: 4, 12, 5));

        // Rows 4 and 5 of the global batch are the micro-batch's rows 0 and 1.
        Assert.Equal(fullOutput.Span.Slice(4 * 21, 2 * 21).ToArray(), microOutput.Span.ToArray());
    }

    [Fact]
    public void Forward_Training_KeepsAboutOneMinusRateAndScalesKept()
    {
        const float rate = 0.3f;
        var layer = new Dropout(rate);
        _ = new LayerHarness(layer, [1000]);
        var input = LayerHarness.RandomInput(20, [1000], seed: 3);

        var output = layer.Forward(input, LayerHarness.ContextFor(training: true, batch: 20, step: 1));

        int kept = 0;
        float scale = 1f / (1f - rate);
        for (int i = 0; i < input.Length; i++)
        {
            if (output[i] != 0f)
            {
                kept++;
                Assert.Equal(input[i] * scale, output[i]);
            }
        }

        // 20,000 Bernoulli(0.7) draws: standard deviation of the kept fraction is about 0.0032; allow 5 of them.
        Assert.InRange(kept / 20000.0, 0.7 - 0.016, 0.7 + 0.016);
    }

    [Fact]
    public void Forward_DifferentSteps_DifferentMasks()
    {
        var layer = new Dropout(0.5f);
        _ = new LayerHarness(layer, [64]);
        var input = Ones(1, [64]);

        var first = layer.Forward(input, LayerHarness.ContextFor(true, batch: 1, step: 0)).Span.ToArray();
        var second = layer.Forward(input, LayerHarness.ContextFor(true, batch: 1, step: 1)).Span.ToArray();

        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Forward_TwoDropoutLayersOfOneModel_DifferentMasksAndReproducibleAcrossBuilds()
    {
        float[][] Masks()
        {
            var builder = new ParameterLayoutBuilder();
            var first = new Dropout(0.5f);
            var second = new Dropout(0.5f);
            first.Build([64], builder);
            second.Build([64], builder);
            var context = LayerHarness.ContextFor(true, batch: 1, step: 2);
            return
            [
                first.Forward(Ones(1, [64]), context).Span.ToArray(),
                second.Forward(Ones(1, [64]), context).Span.ToArray(),
            ];
        }

        var run = Masks();
        var rerun = Masks();

        Assert.NotEqual(run[0], run[1]);
        Assert.Equal(run[0], rerun[0]);
        Assert.Equal(run[1], rerun[1]);
    }

    [Fact]
    public void ForwardBackward_Evaluation_IsIdentity()
    {
        var layer = new Dropout(0.5f);
        _ = new LayerHarness(layer, [8]);
        var input = LayerHarness.RandomInput(2, [8], seed: 1);
        var context = LayerHarness.ContextFor(training: false, batch: 2);
        var outputGradient = LayerHarness.RandomInput(2, [8], seed: 2);

        Assert.Same(input, layer.Forward(input, context));
        Assert.Same(outputGradient, layer.Backward(outputGradient, context, needInputGradient: true));
    }

    [Fact]
    public void Forward_SampleIdsMissing_ThrowsNamingContext()
    {
        var layer = new Dropout(0.5f);
        _ = new LayerHarness(layer, [8]);
        var context = LayerHarness.ContextFor(training: true, batch: 1);

        var error = Assert.Throws<ArgumentException>(() => layer.Forward(Ones(2, [8]), context));

        Assert.Equal("context", error.ParamName);
    }

    [Theory]
    [InlineData(-0.1f)]
    [InlineData(1f)]
    [InlineData(float.NaN)]
    public void Constructor_RateOutsideZeroToOne_ThrowsNamingRate(float rate)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(rate));

        Assert.Equal("rate", error.ParamName);
    }

    private static Tensor Ones(int batch, int[] sampleShape)
    {
        var tensor = new Tensor(ShapeUtil.WithBatch(batch, sampleShape));
        tensor.Span.Fill(1f);
        return tensor;
    }
}
