using System.Numerics.Tensors;
using DistributedBackprop.Core.Parameters;

namespace DistributedBackprop.Core.Optimizers;

/// <summary>
/// Gradient clipping on a slice of the flat gradient vector, touching trained elements only (a running
/// statistic's slot holds a batch statistic, not a gradient). Clipping by global norm follows Pascanu,
/// Mikolov and Bengio ("On the difficulty of training recurrent neural networks", ICML 2013); the norm comes
/// from <see cref="GradientNorm"/>, so every shard applies the same scale.
/// </summary>
public static class GradientClipping
{
    /// <summary>Added to the norm in the scale's denominator, as PyTorch's clip_grad_norm_ does.</summary>
    public const double NormEpsilon = 1e-6;

    /// <summary>
    /// The factor clipping by global norm multiplies gradients by: maxNorm / (globalNorm + 1e-6) when
    /// globalNorm &gt; maxNorm, else 1. A NaN norm gives 1: clipping cannot repair a non-finite gradient.
    /// </summary>
    public static float GlobalNormScale(double globalNorm, double maxNorm)
    {
        ThrowIfNotPositive(maxNorm, nameof(maxNorm));
        return globalNorm > maxNorm ? (float)(maxNorm / (globalNorm + NormEpsilon)) : 1f;
    }

    /// <summary>Scales the trained elements of the slice so the global norm is at most maxNorm.</summary>
    /// <param name="gradientSlice">Elements [sliceStart, sliceStart + length) of the flat gradient vector.</param>
    /// <param name="globalNorm">The norm of the whole vector, from <see cref="GradientNorm"/>.</param>
    /// <returns>The factor applied (1 when the norm was within bounds).</returns>
    public static float ClipByGlobalNorm(
        ParameterLayout layout,
        Span<float> gradientSlice,
        int sliceStart,
        double globalNorm,
        double maxNorm)
    {
        ThrowIfOutside(layout, gradientSlice.Length, sliceStart);
        float scale = GlobalNormScale(globalNorm, maxNorm);
        if (scale != 1f)
        {
            for (int s = 0; s < layout.Segments.Count; s++)
            {
                var values = TrainedPart(layout.Segments[s], gradientSlice, sliceStart);
                TensorPrimitives.Multiply(values, scale, values);
            }
        }

        return scale;
    }

    /// <summary>Clamps the trained elements of the slice to [-maxValue, maxValue].</summary>
    /// <param name="gradientSlice">Elements [sliceStart, sliceStart + length) of the flat gradient vector.</param>
    public static void ClipByValue(ParameterLayout layout, Span<float> gradientSlice, int sliceStart, float maxValue)
    {
        ThrowIfNotPositive(maxValue, nameof(maxValue));
        ThrowIfOutside(layout, gradientSlice.Length, sliceStart);
        for (int s = 0; s < layout.Segments.Count; s++)
        {
            var values = TrainedPart(layout.Segments[s], gradientSlice, sliceStart);
            TensorPrimitives.Max(values, -maxValue, values);
            TensorPrimitives.Min(values, maxValue, values);
        }
    }

    // The part of the slice inside segment, if it is trained; empty otherwise. Looping over segments by index
    // rather than through layout.Overlapping keeps a steady-state step free of allocations.
    private static Span<float> TrainedPart(ParameterSegment segment, Span<float> gradientSlice, int sliceStart)
    {
        int start = Math.Max(segment.Offset, sliceStart);
        int end = Math.Min(segment.End, sliceStart + gradientSlice.Length);
        return segment.IsTrained && start < end ? gradientSlice[(start - sliceStart)..(end - sliceStart)] : [];
    }

    private static void ThrowIfOutside(ParameterLayout layout, int length, int sliceStart)
    {
        ArgumentNullException.ThrowIfNull(layout);
        if (sliceStart < 0 || (long)sliceStart + length > layout.Count)
        {
            throw new ArgumentOutOfRangeException(
                nameof(sliceStart),
                $"The slice [{sliceStart}, {(long)sliceStart + length}) is not inside [0, {layout.Count}).");
        }
    }

    private static void ThrowIfNotPositive(double value, string name)
    {
        if (!(value > 0) || !double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(name, $"{name} must be > 0 and finite, got {value}.");
        }
    }
}
