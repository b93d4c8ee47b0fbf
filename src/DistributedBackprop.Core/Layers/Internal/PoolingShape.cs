using DistributedBackprop.Core.Kernels;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Layers.Internal;

/// <summary>Argument checks shared by the windowed pooling layers.</summary>
internal static class PoolingShape
{
    public static void RequireWindow(string layerType, int size, int stride)
    {
        if (size <= 0)
        {
            throw new ArgumentException($"{layerType} size must be positive, got {size}.", nameof(size));
        }

        if (stride <= 0)
        {
            throw new ArgumentException($"{layerType} stride must be positive, got {stride}.", nameof(stride));
        }
    }

    /// <summary>The window geometry for a (C, H, W) input; throws when the input is not rank 3 or too small.</summary>
    public static ConvGeometry Geometry(string layerType, int[] inputShape, int size, int stride)
    {
        if (inputShape.Length != 3 || inputShape.Any(d => d <= 0))
        {
            throw new ArgumentException(
                $"{layerType} expects a (channels, height, width) input shape with positive sizes, got "
                + $"{ShapeUtil.Format(inputShape)}.",
                nameof(inputShape));
        }

        var geometry = new ConvGeometry(inputShape[0], inputShape[1], inputShape[2], size, stride, 0);
        if (!geometry.Fits)
        {
            throw new ArgumentException(
                $"{layerType} size {size} does not fit input {ShapeUtil.Format(inputShape)}: the output would be "
                + "empty. Use a smaller window.",
                nameof(inputShape));
        }

        return geometry;
    }
}
