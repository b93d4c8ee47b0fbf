using DistributedBackprop.Core.Losses;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Losses;

/// <summary>
/// Checks a loss's gradient against central finite differences of its returned value, element by element,
/// with the same robust relative error as <see cref="GradientCheck"/>.
/// </summary>
internal static class LossGradientCheck
{
    public static double MaxRelativeError(
        ILoss loss,
        Tensor predictions,
        float[]? values,
        int[]? labels,
        float scale,
        float epsilon = 1e-2f)
    {
        LossTargets Targets() => values is null ? LossTargets.FromLabels(labels) : LossTargets.FromValues(values);

        var analytic = loss.Compute(predictions, Targets(), scale).Gradient.Span.ToArray();
        double maxError = 0;
        for (int i = 0; i < predictions.Length; i++)
        {
            float saved = predictions[i];
            predictions[i] = saved + epsilon;
            double plus = loss.Compute(predictions, Targets(), scale).Loss;
            predictions[i] = saved - epsilon;
            double minus = loss.Compute(predictions, Targets(), scale).Loss;
            predictions[i] = saved;
            double numeric = (plus - minus) / (2.0 * epsilon);
            maxError = Math.Max(maxError, GradientCheck.RelativeError(analytic[i], numeric));
        }

        return maxError;
    }

    /// <summary>Standard normal values of the given shape from a fixed seed.</summary>
    public static Tensor Random(ulong seed, params int[] shape)
    {
        var rng = new DeterministicRandom(seed, 9);
        var tensor = new Tensor(shape);
        for (int i = 0; i < tensor.Length; i++)
        {
            tensor[i] = (float)rng.NextGaussian();
        }

        return tensor;
    }
}
