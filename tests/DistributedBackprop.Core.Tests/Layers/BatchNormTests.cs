using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Layers;

public sealed class BatchNormTests
{
    private const double Tolerance = 1e-3;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Backward_RankOne_MatchesFiniteDifferences(bool training)
    {
        var result = GradientCheck.Check(
            new BatchNorm(), [5], batch: 6, training: training, prepareParameters: SetAffine(5, training));

        Assert.True(result.MaxInputError < Tolerance, $"input gradient error {result.MaxInputError}");
        Assert.True(result.MaxParameterError < Tolerance, $"parameter gradient error {result.MaxParameterError}");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Backward_RankThree_MatchesFiniteDifferences(bool training)
    {
        var result = GradientCheck.Check(
            new BatchNorm(), [3, 4, 5], batch: 3, training: training, prepareParameters: SetAffine(3, training));

        Assert.True(result.MaxInputError < Tolerance, $"input gradient error {result.MaxInputError}");
        Assert.True(result.MaxParameterError < Tolerance, $"parameter gradient error {result.MaxParameterError}");
    }

    [Fact]
    public void Forward_Training_NormalisesEachChannelOverBatchAndPlane()
    {
        var harness = new LayerHarness(new BatchNorm(), [2, 3, 3]);
        var input = LayerHarness.RandomTensor(6, 4, 2, 3, 3);
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = 3f * input[i] + 5f;
        }

        var output = harness.Layer.Forward(input, LayerHarness.Context(4));

        for (int c = 0; c < 2; c++)
        {
            var values = ChannelValues(output, c, channels: 2, spatial: 9);
            double mean = values.Average();
            double variance = values.Average(v => (v - mean) * (v - mean));
            Assert.Equal(0, mean, 1e-6);

            // Biased variance after normalisation is σ²/(σ² + ε): just under one.
            Assert.Equal(1, variance, 1e-4);
        }
    }

    [Fact]
    public void Forward_Training_WritesWeightedBatchStatisticsIntoRunningStatisticGradients()
    {
        var harness = new LayerHarness(new BatchNorm(momentum: 0.2f), [3, 2, 2]);
        var input = LayerHarness.RandomTensor(9, 5, 3, 2, 2);
        var context = LayerHarness.Context(5);
        context.BatchFraction = 0.25f;

        harness.Layer.Forward(input, context);

        var meanSlot = harness.Gradient("running_mean").ToArray();
        var varianceSlot = harness.Gradient("running_var").ToArray();
        for (int c = 0; c < 3; c++)
        {
            var values = ChannelValues(input, c, channels: 3, spatial: 4);
            double mean = values.Average();
            double unbiased = values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1);
            Assert.Equal(0.25 * mean, meanSlot[c], 1e-6);
            Assert.Equal(0.25 * unbiased, varianceSlot[c], 1e-6);
        }

        Assert.Equal(ParameterKind.RunningStatistic, harness.Layout["running_mean"].Kind);
        Assert.Equal(0.2f, harness.Layout["running_var"].Momentum);
        Assert.Equal(0f, harness.Parameter("running_mean")[0]);
        Assert.Equal(1f, harness.Parameter("running_var")[0]);
    }

    [Fact]
    public void Forward_Evaluation_UsesRunningStatistics()
    {
        var harness = new LayerHarness(new BatchNorm(epsilon: 1e-3f), [2]);
        float[] runningMean = [0.5f, -2f];
        float[] runningVariance = [4f, 0.25f];
        float[] gamma = [1.5f, -0.5f];
        float[] beta = [0.1f, 0.2f];
        runningMean.CopyTo(harness.Parameter("running_mean"));
        runningVariance.CopyTo(harness.Parameter("running_var"));
        gamma.CopyTo(harness.Parameter("gamma"));
        beta.CopyTo(harness.Parameter("beta"));
        var input = LayerHarness.RandomTensor(2, 3, 2);

        var output = harness.Layer.Forward(input, LayerHarness.Context(3, training: false));

        for (int i = 0; i < input.Length; i++)
        {
            int c = i % 2;
            double expected = gamma[c] * (input[i] - runningMean[c]) / Math.Sqrt(runningVariance[c] + 1e-3) + beta[c];
            Assert.Equal(expected, output[i], 1e-5);
        }

        Assert.All(harness.Gradients, g => Assert.Equal(0f, g));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ForwardBackward_ThreadCounts_BitIdentical(bool training)
    {
        float[]? referenceOutput = null;
        float[]? referenceInputGradient = null;
        float[]? referenceGradients = null;
        foreach (int threads in new[] { 1, 2, 4 })
        {
            var harness = new LayerHarness(new BatchNorm(), [5, 6, 7]);
            var input = LayerHarness.RandomTensor(3, 4, 5, 6, 7);
            var context = LayerHarness.Context(4, training, threads);

            var output = harness.Layer.Forward(input, context).Span.ToArray();
            var outputGradient = LayerHarness.RandomTensor(4, 4, 5, 6, 7);
            var inputGradient = harness.Layer.Backward(outputGradient, context, true)!.Span.ToArray();

            referenceOutput ??= output;
            referenceInputGradient ??= inputGradient;
            referenceGradients ??= harness.Gradients.ToArray();
            Assert.Equal(referenceOutput, output);
            Assert.Equal(referenceInputGradient, inputGradient);
            Assert.Equal(referenceGradients, harness.Gradients);
        }
    }

    [Fact]
    public void Forward_TrainingWithOneValuePerChannel_ThrowsNamingShape()
    {
        var harness = new LayerHarness(new BatchNorm(), [4]);

        var error = Assert.Throws<ArgumentException>(
            () => harness.Layer.Forward(new Tensor(1, 4), LayerHarness.Context(1)));

        Assert.Contains("(4)", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-0.1f, 1e-5f, "momentum")]
    [InlineData(1.5f, 1e-5f, "momentum")]
    [InlineData(0.1f, 0f, "epsilon")]
    public void Constructor_InvalidArgument_ThrowsNamingField(float momentum, float epsilon, string field)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => new BatchNorm(momentum, epsilon));

        Assert.Equal(field, error.ParamName);
    }

    [Fact]
    public void Build_RankTwoInput_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => new BatchNorm().Build([3, 4], new ParameterLayoutBuilder()));

        Assert.Contains("(3, 4)", error.Message, StringComparison.Ordinal);
    }

    // Non-trivial γ and β (and, in evaluation, running statistics) so that no term of the gradient vanishes.
    private static Action<float[]> SetAffine(int channels, bool training) => parameters =>
    {
        for (int c = 0; c < channels; c++)
        {
            parameters[c] = 0.5f + 0.3f * c;
            parameters[channels + c] = 0.1f * c - 0.2f;
            if (!training)
            {
                parameters[2 * channels + c] = 0.2f * c;
                parameters[3 * channels + c] = 0.5f + c;
            }
        }
    };

    // Every value of channel c of a (batch, C, ...spatial) tensor, as doubles.
    private static double[] ChannelValues(Tensor tensor, int c, int channels, int spatial)
    {
        int batch = tensor.Shape[0];
        var values = new List<double>();
        for (int b = 0; b < batch; b++)
        {
            for (int s = 0; s < spatial; s++)
            {
                values.Add(tensor[(b * channels + c) * spatial + s]);
            }
        }

        return values.ToArray();
    }
}
