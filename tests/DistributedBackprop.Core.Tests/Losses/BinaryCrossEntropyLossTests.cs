using DistributedBackprop.Core.Losses;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Losses;

public sealed class BinaryCrossEntropyLossTests
{
    [Fact]
    public void Compute_ModerateLogits_MatchesLogSigmoidReference()
    {
        var predictions = LossGradientCheck.Random(6, 4, 3);
        float[] targets = [1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0];

        var output = new BinaryCrossEntropyLoss().Compute(predictions, LossTargets.FromValues(targets), 0.25f);

        double expected = 0;
        for (int i = 0; i < targets.Length; i++)
        {
            double p = 1 / (1 + Math.Exp(-predictions[i]));
            expected -= targets[i] * Math.Log(p) + (1 - targets[i]) * Math.Log(1 - p);
        }

        // mean over the 3 elements of each sample, times scale
        Assert.Equal(0.25 * expected / 3, output.Loss, 1e-6);
    }

    [Fact]
    public void Compute_LogitsOfTenThousand_FiniteWithExpectedValues()
    {
        var predictions = new Tensor([1e4f, -1e4f, 1e4f, -1e4f], 0, 4, 1);
        float[] targets = [0, 1, 1, 0];

        var output = new BinaryCrossEntropyLoss().Compute(predictions, LossTargets.FromValues(targets), 1f);

        // Confidently wrong rows cost |x| = 1e4 each; confidently right rows cost e^-1e4 ≈ 0.
        Assert.Equal(2e4, output.Loss, 1e-6);
        Assert.Equal([1f, -1f, 0f, 0f], output.Gradient.Span.ToArray());
    }
}
