using DistributedBackprop.Core.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace DistributedBackprop.Core.Losses;

/// <summary>
/// Cross-entropy of softmax(logits) against integer class labels, fused with the softmax: a row's loss is
/// <c>logsumexp(x) - x[label]</c> and its gradient <c>softmax(x) - onehot(label)</c>. The row maximum is
/// subtracted before exponentiating, so logits of any magnitude (±1e4 and beyond) stay finite.
/// Also counts rows whose argmax (first maximum on ties) equals the label, for accuracy.
/// </summary>
public sealed class SoftmaxCrossEntropyLoss : ILoss
{
    private readonly LossGradientBuffer _gradient = new();

    public string Type => "softmax_cross_entropy";

    public LossTargetKind TargetKind => LossTargetKind.Labels;

    // predictions: (batch, classes) logits; targets.Labels: (batch) in [0, classes)
    public LossOutput Compute(Tensor predictions, LossTargets targets, float scale)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        CheckArguments(predictions, targets);
        var labels = targets.Labels;
        int batch = predictions.Shape[0];
        int classes = predictions.Shape[1];
        var gradient = _gradient.Like(predictions);
        ReadOnlySpan<float> x = predictions.Span;
        var g = gradient.Span;

        double sum = 0;
        int correct = 0;
        for (int row = 0; row < batch; row++)
        {
            var logits = x.Slice(row * classes, classes);
            var rowGradient = g.Slice(row * classes, classes);
            int label = labels[row];
            if ((uint)label >= (uint)classes)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(targets),
                    label,
                    $"Label of row {row} is {label}, but there are {classes} classes: "
                    + $"labels must be in [0, {classes}).");
            }

            int argmax = TensorPrimitives.IndexOfMax(logits);
            float max = logits[argmax];
            if (argmax == label)
            {
                correct++;
            }

            // exp(x - max) ∈ (0, 1] and the row maximum contributes exactly 1, so the sum is in [1, classes].
            TensorPrimitives.Subtract(logits, max, rowGradient);
            TensorPrimitives.Exp(rowGradient, rowGradient);
            float expSum = TensorPrimitives.Sum(rowGradient);
            sum += Math.Log(expSum) - ((double)logits[label] - max);

            TensorPrimitives.Multiply(rowGradient, scale / expSum, rowGradient);
            rowGradient[label] -= scale;
        }

        return new LossOutput(scale * sum, gradient, correct);
    }

    private void CheckArguments(Tensor predictions, LossTargets targets)
    {
        if (targets.Kind != LossTargetKind.Labels)
        {
            throw new ArgumentException(
                $"The {Type} loss takes one integer class label per row, not float target values.",
                nameof(targets));
        }

        if (predictions.Rank != 2 || predictions.Shape[1] == 0)
        {
            throw new ArgumentException(
                $"The {Type} loss takes logits of shape (batch, classes) with classes > 0, got "
                + $"{ShapeUtil.Format(predictions.Shape)}; add a flatten or dense layer before it.",
                nameof(predictions));
        }

        if (targets.Labels.Length != predictions.Shape[0])
        {
            throw new ArgumentException(
                $"The {Type} loss got {targets.Labels.Length} labels for a batch of {predictions.Shape[0]} rows.",
                nameof(targets));
        }
    }
}
