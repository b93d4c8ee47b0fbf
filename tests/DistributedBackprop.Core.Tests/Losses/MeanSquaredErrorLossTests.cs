using DistributedBackprop.Core.Losses;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Losses;

public sealed class MeanSquaredErrorLossTests
{
    [Fact]
    public void Compute_HandExample_MeanOverElementsTimesScale()
    {
        var predictions = new Tensor([1f, 2f, 3f, 4f], 0, 2, 2);
        float[] targets = [0f, 2f, 5f, 4f];

        var output = new MeanSquaredErrorLoss().Compute(predictions, LossTargets.FromValues(targets), 0.5f);

        // per-sample means: (1 + 0) / 2 = 0.5 and (4 + 0) / 2 = 2; summed 2.5, scaled 1.25
        Assert.Equal(1.25, output.Loss, 1e-12);

        // gradient: scale · 2 (p - t) / width = 0.5 (p - t)
        Assert.Equal([0.5f, 0f, -1f, 0f], output.Gradient.Span.ToArray());
        Assert.Null(output.Correct);
    }
}
