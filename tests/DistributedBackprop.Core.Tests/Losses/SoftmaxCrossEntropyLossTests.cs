using DistributedBackprop.Core.Losses;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Losses;

public sealed class SoftmaxCrossEntropyLossTests
{
    [Fact]
    public void Compute_LogitsOfTenThousand_FiniteAndMatchesDoubleLogSumExp()
    {
        float[] logits = [1e4f, -1e4f, 0f, 5e3f, -1e4f, 1e4f, 1e4f, -1e4f, -1e4f, -1e4f, -1e4f, -1e4f];
        int[] labels = [1, 0, 3];
        var predictions = new Tensor(logits, 0, 3, 4);

        var output = new SoftmaxCrossEntropyLoss().Compute(predictions, LossTargets.FromLabels(labels), 1f / 3);

        double expected = 0;
        for (int row = 0; row < 3; row++)
        {
            var x = logits.Skip(row * 4).Take(4).Select(v => (double)v).ToArray();
            double max = x.Max();
            expected += max + Math.Log(x.Sum(v => Math.Exp(v - max))) - x[labels[row]];
        }

        expected /= 3;
        Assert.True(double.IsFinite(output.Loss));
        Assert.Equal(expected, output.Loss, 1e-6 * expected);
        Assert.All(output.Gradient.Span.ToArray(), g => Assert.True(float.IsFinite(g)));

        // Each row's gradient is (softmax - onehot) / 3, whose entries sum to zero.
        for (int row = 0; row < 3; row++)
        {
            Assert.Equal(0, output.Gradient.Span.Slice(row * 4, 4).ToArray().Sum(), 1e-6);
        }
    }

    [Fact]
    public void Compute_ModerateLogits_MatchesDoubleReference()
    {
        var predictions = LossGradientCheck.Random(4, 5, 7);
        int[] labels = [0, 6, 3, 3, 1];

        var output = new SoftmaxCrossEntropyLoss().Compute(predictions, LossTargets.FromLabels(labels), 1f);

        double expected = 0;
        for (int row = 0; row < 5; row++)
        {
            var x = predictions.Span.Slice(row * 7, 7).ToArray().Select(v => (double)v).ToArray();
            expected += -Math.Log(Math.Exp(x[labels[row]]) / x.Sum(Math.Exp));
        }

        Assert.Equal(expected, output.Loss, 1e-5);
    }

    [Fact]
    public void Compute_CountsRowsWhoseArgmaxIsTheLabel()
    {
        var predictions = new Tensor([3f, 1f, 0f, 0f, 2f, 5f, 1f, 1f, -1f, 0f, 0f, 9f], 0, 4, 3);
        int[] labels = [0, 1, 0, 2];

        var output = new SoftmaxCrossEntropyLoss().Compute(predictions, LossTargets.FromLabels(labels), 1f);

        // row 0 right, row 1 wrong (argmax 2), row 2 right (first of a tie), row 3 right
        Assert.Equal(3, output.Correct);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(3)]
    public void Compute_LabelOutOfRange_ThrowsNamingTargets(int label)
    {
        var predictions = new Tensor(2, 3);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new SoftmaxCrossEntropyLoss().Compute(
            predictions, LossTargets.FromLabels([0, label]), 1f));

        Assert.Equal("targets", error.ParamName);
        Assert.Contains("row 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_ImagePredictions_ThrowsNamingPredictions()
    {
        var error = Assert.Throws<ArgumentException>(() => new SoftmaxCrossEntropyLoss().Compute(
            new Tensor(2, 3, 4), LossTargets.FromLabels([0, 1]), 1f));

        Assert.Equal("predictions", error.ParamName);
    }
}
