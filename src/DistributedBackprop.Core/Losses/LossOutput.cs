using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Losses;

/// <summary>What <see cref="ILoss.Compute"/> returns.</summary>
/// <param name="Loss">scale · the sum of per-sample losses, accumulated in double.</param>
/// <param name="Gradient">scale · ∂(Σ loss)/∂predictions, shaped like the predictions; owned by the loss.</param>
/// <param name="Correct">Rows whose argmax equals the label, for classification losses; null otherwise.</param>
public readonly record struct LossOutput(double Loss, Tensor Gradient, int? Correct);
