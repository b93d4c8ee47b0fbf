using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using DistributedBackprop.Core.Parameters;

namespace DistributedBackprop.Core.Optimizers;

/// <summary>
/// Adam (Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015), with optional L2 weight
/// decay added to the gradient of weights.
/// </summary>
/// <remarks>
/// PyTorch's formulation of the bias-corrected step: g += λθ; m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
/// θ -= (lr / (1-β1^t)) · m / (sqrt(v) / sqrt(1-β2^t) + ε). The two corrections depend on the step t only,
/// so they are computed once per step in double and every slice uses the same float values. The update
/// multiplies numerator and denominator by sqrt(1-β2^t), θ -= (lr·sqrt(1-β2^t) / (1-β1^t)) · m / (sqrt(v) +
/// ε·sqrt(1-β2^t)), which is the same step with one division per element instead of two: the pass is bound by
/// the divider, not by memory.
/// State buffers: firstMoment, secondMoment.
/// </remarks>
public sealed class Adam : Optimizer
{
    internal Adam(OptimizerSettings settings, ParameterLayout layout, int start, int end)
        : base(settings, layout, start, end, ["firstMoment", "secondMoment"])
    {
    }

    private protected override void UpdateRun(
        int offset,
        Span<float> parameters,
        ReadOnlySpan<float> gradients,
        float weightDecay,
        float learningRate,
        long step)
    {
        int n = parameters.Length;
        var coefficients = Coefficients.For(Settings, learningRate, step, l2Decay: weightDecay, keep: 1f);
        Update(parameters, gradients, StateOf(0, offset, n), StateOf(1, offset, n), coefficients);
    }

    // parameters, gradients, firstMoment, secondMoment: (n).
    // Computes θ = keep·θ - (stepSize·correction2)·m / (sqrt(v) + ε·correction2) after the moment updates,
    // with g + l2Decay·θ as the gradient; Adam has keep = 1, AdamW has l2Decay = 0. Every path below computes
    // the same float operations in the same order, so the bits do not depend on the vector width.
    internal static void Update(
        Span<float> parameters,
        ReadOnlySpan<float> gradients,
        Span<float> firstMoment,
        Span<float> secondMoment,
        Coefficients c)
    {
        ref float p = ref MemoryMarshal.GetReference(parameters);
        ref float g = ref MemoryMarshal.GetReference(gradients);
        ref float m = ref MemoryMarshal.GetReference(firstMoment);
        ref float v = ref MemoryMarshal.GetReference(secondMoment);
        float rest1 = 1f - c.Beta1;
        float rest2 = 1f - c.Beta2;
        float scaledStep = c.StepSize * c.Correction2Sqrt;
        float scaledEpsilon = c.Epsilon * c.Correction2Sqrt;
        int n = parameters.Length;
        int i = 0;

        if (Vector512.IsHardwareAccelerated)
        {
            var beta1 = Vector512.Create(c.Beta1);
            var beta2 = Vector512.Create(c.Beta2);
            var oneMinusBeta1 = Vector512.Create(rest1);
            var oneMinusBeta2 = Vector512.Create(rest2);
            var eps = Vector512.Create(scaledEpsilon);
            var l2 = Vector512.Create(c.L2Decay);
            var keep = Vector512.Create(c.Keep);
            var stepSize = Vector512.Create(scaledStep);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var theta = Vector512.LoadUnsafe(ref p, (nuint)i);
                var grad = Vector512.LoadUnsafe(ref g, (nuint)i) + l2 * theta;
                var mean = beta1 * Vector512.LoadUnsafe(ref m, (nuint)i) + oneMinusBeta1 * grad;
                var square = beta2 * Vector512.LoadUnsafe(ref v, (nuint)i) + oneMinusBeta2 * (grad * grad);
                mean.StoreUnsafe(ref m, (nuint)i);
                square.StoreUnsafe(ref v, (nuint)i);
                var denominator = Vector512.Sqrt(square) + eps;
                (keep * theta - stepSize * (mean / denominator)).StoreUnsafe(ref p, (nuint)i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            var beta1 = Vector256.Create(c.Beta1);
            var beta2 = Vector256.Create(c.Beta2);
            var oneMinusBeta1 = Vector256.Create(rest1);
            var oneMinusBeta2 = Vector256.Create(rest2);
            var eps = Vector256.Create(scaledEpsilon);
            var l2 = Vector256.Create(c.L2Decay);
            var keep = Vector256.Create(c.Keep);
            var stepSize = Vector256.Create(scaledStep);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var theta = Vector256.LoadUnsafe(ref p, (nuint)i);
                var grad = Vector256.LoadUnsafe(ref g, (nuint)i) + l2 * theta;
                var mean = beta1 * Vector256.LoadUnsafe(ref m, (nuint)i) + oneMinusBeta1 * grad;
                var square = beta2 * Vector256.LoadUnsafe(ref v, (nuint)i) + oneMinusBeta2 * (grad * grad);
                mean.StoreUnsafe(ref m, (nuint)i);
                square.StoreUnsafe(ref v, (nuint)i);
                var denominator = Vector256.Sqrt(square) + eps;
                (keep * theta - stepSize * (mean / denominator)).StoreUnsafe(ref p, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            float theta = parameters[i];
            float grad = gradients[i] + c.L2Decay * theta;
            float mean = c.Beta1 * firstMoment[i] + rest1 * grad;
            float square = c.Beta2 * secondMoment[i] + rest2 * (grad * grad);
            firstMoment[i] = mean;
            secondMoment[i] = square;
            float denominator = MathF.Sqrt(square) + scaledEpsilon;
            parameters[i] = c.Keep * theta - scaledStep * (mean / denominator);
        }
    }

    /// <summary>The scalars of one Adam or AdamW update of one run.</summary>
    /// <param name="StepSize">lr / (1 - β1^t).</param>
    /// <param name="Correction2Sqrt">sqrt(1 - β2^t).</param>
    /// <param name="L2Decay">λ added to the gradient as λθ (Adam on weights), else 0.</param>
    /// <param name="Keep">Factor θ is multiplied by before the step: 1 - lr·λ (AdamW on weights), else 1.</param>
    internal readonly record struct Coefficients(
        float Beta1,
        float Beta2,
        float Epsilon,
        float StepSize,
        float Correction2Sqrt,
        float L2Decay,
        float Keep)
    {
        public static Coefficients For(
            OptimizerSettings settings,
            float learningRate,
            long step,
            float l2Decay,
            float keep)
        {
            double correction1 = 1.0 - Math.Pow(settings.Beta1, step);
            double correction2 = 1.0 - Math.Pow(settings.Beta2, step);
            return new Coefficients(
                settings.Beta1,
                settings.Beta2,
                settings.Epsilon,
                (float)(learningRate / correction1),
                (float)Math.Sqrt(correction2),
                l2Decay,
                keep);
        }
    }
}
