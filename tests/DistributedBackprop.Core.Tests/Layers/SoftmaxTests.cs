using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Layers;

public sealed class SoftmaxTests
{
    [Fact]
    public void Backward_FiniteDifferences_MatchAnalyticGradient()
    {
        var result = GradientCheck.Check(
            new Softmax(), [2, 6], batch: 3, doubleForward: (input, _) => Reference(input, 6));

        Assert.True(result.MaxInputError < 1e-3, $"input error {result.MaxInputError}");
        Assert.True(result.MaxForwardError < 1e-6, $"forward error {result.MaxForwardError}");
        Assert.Equal(36, result.Checked);
    }

    [Fact]
    public void Forward_HugeLogits_FiniteAndMatchesDoubleReference()
    {
        var layer = new Softmax();
        _ = new LayerHarness(layer, [4]);
        float[] logits = [1e4f, -1e4f, 9999f, 0f, 1f, 2f, 3f, 4f];

        var output = layer.Forward(new Tensor(logits, 0, 2, 4), LayerHarness.ContextFor(training: false, batch: 2));

        for (int row = 0; row < 2; row++)
        {
            double max = logits.Skip(row * 4).Take(4).Max();
            double sum = logits.Skip(row * 4).Take(4).Sum(v => Math.Exp(v - max));
            for (int j = 0; j < 4; j++)
            {
                double expected = Math.Exp(logits[row * 4 + j] - max) / sum;
                Assert.True(float.IsFinite(output[row * 4 + j]));
                Assert.Equal(expected, output[row * 4 + j], 1e-6);
            }
        }
    }

    [Fact]
    public void Build_ScalarSamples_ThrowsNamingInputShape()
    {
        var error = Assert.Throws<ArgumentException>(
            () => new Softmax().Build([], new ParameterLayoutBuilder()));

        Assert.Equal("inputShape", error.ParamName);
    }

    // Softmax of each row of length width, in double, without max subtraction (inputs are moderate).
    private static double[] Reference(double[] input, int width)
    {
        var output = new double[input.Length];
        for (int start = 0; start < input.Length; start += width)
        {
            double sum = 0;
            for (int j = 0; j < width; j++)
            {
                sum += Math.Exp(input[start + j]);
            }

            for (int j = 0; j < width; j++)
            {
                output[start + j] = Math.Exp(input[start + j]) / sum;
            }
        }

        return output;
    }
}
