using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Losses;

/// <summary>
/// Binary cross-entropy on logits, fused with the sigmoid. Per element, in the stable form
/// <c>max(x, 0) - x·t + log(1 + e^-|x|)</c>, with gradient <c>sigmoid(x) - t</c>; a sample's loss is the mean over
/// its elements. Targets are 0 or 1 (soft targets in [0, 1] also work).
/// </summary>
public sealed class BinaryCrossEntropyLoss : ILoss
{
    private readonly LossGradientBuffer _gradient = new();

    public string Type => "binary_cross_entropy";

    public LossTargetKind TargetKind => LossTargetKind.Values;

    // predictions: (batch, ...) logits; targets.Values: same element count
    public LossOutput Compute(Tensor predictions, LossTargets targets, float scale)
    {
        LossChecks.RequireValues(Type, predictions, targets);
        var gradient = _gradient.Like(predictions);
        int batch = predictions.Shape[0];
        int width = batch == 0 ? 0 : predictions.Length / batch;
        ReadOnlySpan<float> x = predictions.Span;
        ReadOnlySpan<float> t = targets.Values;
        var g = gradient.Span;
        float gradientScale = width == 0 ? 0f : scale / width;

        // A scalar loop in double: outputs of a binary classifier are narrow (often one logit per row), and
        // log1p and the two-sided sigmoid are not available as one vectorized pass.
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double xi = x[i];
            double e = Math.Exp(-Math.Abs(xi));
            sum += Math.Max(xi, 0) - xi * t[i] + Math.Log(1 + e);

            // sigmoid(x) from e = e^-|x|, never exponentiating a positive number.
            double sigmoid = xi >= 0 ? 1 / (1 + e) : e / (1 + e);
            g[i] = (float)(sigmoid - t[i]) * gradientScale;
        }

        double loss = width == 0 ? 0 : scale * sum / width;
        return new LossOutput(loss, gradient, null);
    }
}
