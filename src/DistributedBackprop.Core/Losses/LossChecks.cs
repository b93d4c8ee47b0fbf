using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Losses;

/// <summary>Argument checks shared by the losses, with messages that say what was expected.</summary>
internal static class LossChecks
{
    public static void RequireValues(string lossType, Tensor predictions, LossTargets targets)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        if (targets.Kind != LossTargetKind.Values)
        {
            throw new ArgumentException(
                $"The {lossType} loss takes float target values shaped like the predictions, not class labels.",
                nameof(targets));
        }

        if (targets.Values.Length != predictions.Length || predictions.Rank < 1)
        {
            throw new ArgumentException(
                $"The {lossType} loss got {targets.Values.Length} target values for predictions of shape "
                + $"{ShapeUtil.Format(predictions.Shape)}; it needs one target per prediction.",
                nameof(targets));
        }
    }
}
