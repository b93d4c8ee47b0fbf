using DistributedBackprop.Core.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace DistributedBackprop.Core.Losses;

/// <summary>
/// Mean squared error: a sample's loss is the mean of (prediction - target)² over its elements, so with
/// scale = 1 / batch the result is the mean over every element of the batch.
/// </summary>
public sealed class MeanSquaredErrorLoss : ILoss
{
    private readonly LossGradientBuffer _gradient = new();

    public string Type => "mse";

    public LossTargetKind TargetKind => LossTargetKind.Values;

    // predictions, targets.Values: (batch, ...) with the same element count
    public LossOutput Compute(Tensor predictions, LossTargets targets, float scale)
    {
        LossChecks.RequireValues(Type, predictions, targets);
        var gradient = _gradient.Like(predictions);
        int batch = predictions.Shape[0];
        int width = batch == 0 ? 0 : predictions.Length / batch;
        ReadOnlySpan<float> p = predictions.Span;
        var g = gradient.Span;

        // g holds the residual first, then is scaled in place into the gradient 2·scale·(p - t) / width.
        TensorPrimitives.Subtract(p, targets.Values, g);
        double sum = 0;
        for (int row = 0; row < batch; row++)
        {
            sum += TensorPrimitives.SumOfSquares(g.Slice(row * width, width));
        }

        if (width > 0)
        {
            TensorPrimitives.Multiply(g, 2f * scale / width, g);
        }

        double loss = width == 0 ? 0 : scale * sum / width;
        return new LossOutput(loss, gradient, null);
    }
}
