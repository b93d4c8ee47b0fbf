using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Layers.Internal;

/// <summary>Checks that a tensor handed to a layer is (batch, ...sampleShape).</summary>
internal static class BatchShape
{
    public static void Require(Tensor tensor, int[] sampleShape, string layerType, string argumentName)
    {
        ArgumentNullException.ThrowIfNull(tensor, argumentName);
        if (tensor.Rank != sampleShape.Length + 1 || !tensor.Shape.AsSpan(1).SequenceEqual(sampleShape))
        {
            throw new ArgumentException(
                $"{layerType} {argumentName} must be (batch, ...{ShapeUtil.Format(sampleShape)}), "
                + $"got {ShapeUtil.Format(tensor.Shape)}.",
                argumentName);
        }
    }
}
