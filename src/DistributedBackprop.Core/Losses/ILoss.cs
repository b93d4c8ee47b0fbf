using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Losses;

/// <summary>
/// A training objective over a micro-batch, fused with its gradient. Per-sample losses are summed and multiplied
/// by a caller-supplied <c>scale</c>; the trainer passes 1 / globalBatchSize, so the micro-batch results add up,
/// over the micro-batches of a step, to the mean loss of the global batch and its gradient.
/// </summary>
/// <remarks>Not thread-safe: an instance reuses its gradient buffer; use one per worker.</remarks>
public interface ILoss
{
    /// <summary>The spec name of the loss, e.g. <c>mse</c>.</summary>
    string Type { get; }

    /// <summary>Which kind of <see cref="LossTargets"/> <see cref="Compute"/> accepts.</summary>
    LossTargetKind TargetKind { get; }

    /// <summary>
    /// Computes <c>scale · Σ_samples loss</c> and writes <c>scale · ∂(Σ loss)/∂predictions</c> into a buffer
    /// the loss owns, valid until the next call.
    /// </summary>
    /// <param name="predictions">(batch, ...) the model's output.</param>
    /// <param name="targets">Targets of <see cref="TargetKind"/> for the same rows.</param>
    /// <param name="scale">Multiplies both the loss and the gradient.</param>
    /// <exception cref="ArgumentException">The targets' kind or length does not fit the predictions.</exception>
    LossOutput Compute(Tensor predictions, LossTargets targets, float scale);
}
