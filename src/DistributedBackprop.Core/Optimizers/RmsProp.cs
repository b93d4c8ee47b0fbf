using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using DistributedBackprop.Core.Parameters;

namespace DistributedBackprop.Core.Optimizers;

/// <summary>
/// RMSprop (Tieleman and Hinton, "Lecture 6.5 - rmsprop", COURSERA: Neural Networks for Machine Learning,
/// 2012), with the centered variant of Graves ("Generating Sequences With Recurrent Neural Networks", 2013).
/// </summary>
/// <remarks>
/// PyTorch's formulation: g += λθ (weights only); s = ρs + (1-ρ)g²; centered: a = ρa + (1-ρ)g and
/// σ = sqrt(s - a²) + ε, otherwise σ = sqrt(s) + ε; with momentum b = μb + g/σ and θ -= lr·b, without
/// θ -= lr·g/σ. One deviation: s - a² is clamped at zero before the square root, because with a nearly
/// constant gradient rounding can make it slightly negative and PyTorch would produce NaN there.
/// State buffers: squareAverage, then momentumBuffer (if μ &gt; 0), then gradientAverage (if centered).
/// </remarks>
public sealed class RmsProp : Optimizer
{
    private readonly int _momentumBuffer;
    private readonly int _averageBuffer;

    internal RmsProp(OptimizerSettings settings, ParameterLayout layout, int start, int end)
        : base(settings, layout, start, end, BufferNames(settings))
    {
        _momentumBuffer = settings.Momentum > 0f ? 1 : -1;
        _averageBuffer = settings.Centered ? (settings.Momentum > 0f ? 2 : 1) : -1;
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
        var squareAverage = StateOf(0, offset, n);
        var momentumBuffer = _momentumBuffer >= 0 ? StateOf(_momentumBuffer, offset, n) : [];
        var gradientAverage = _averageBuffer >= 0 ? StateOf(_averageBuffer, offset, n) : [];
        var coefficients = new Coefficients(
            learningRate, Settings.Rho, Settings.Momentum, Settings.Epsilon, weightDecay);
        Update(parameters, gradients, squareAverage, momentumBuffer, gradientAverage, coefficients);
    }

    // parameters, gradients, squareAverage: (n); momentumBuffer: (n) or empty without momentum;
    // gradientAverage: (n) or empty when not centered.
    internal static void Update(
        Span<float> parameters,
        ReadOnlySpan<float> gradients,
        Span<float> squareAverage,
        Span<float> momentumBuffer,
        Span<float> gradientAverage,
        Coefficients c)
    {
        ref float p = ref MemoryMarshal.GetReference(parameters);
        ref float g = ref MemoryMarshal.GetReference(gradients);
        ref float s = ref MemoryMarshal.GetReference(squareAverage);
        ref float b = ref MemoryMarshal.GetReference(momentumBuffer);
        ref float a = ref MemoryMarshal.GetReference(gradientAverage);
        bool hasMomentum = !momentumBuffer.IsEmpty;
        bool centered = !gradientAverage.IsEmpty;
        float oneMinusRho = 1f - c.Rho;
        int n = parameters.Length;
        int i = 0;

        if (Vector512.IsHardwareAccelerated)
        {
            var lr = Vector512.Create(c.LearningRate);
            var rho = Vector512.Create(c.Rho);
            var rest = Vector512.Create(oneMinusRho);
            var mu = Vector512.Create(c.Momentum);
            var eps = Vector512.Create(c.Epsilon);
            var decay = Vector512.Create(c.WeightDecay);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var theta = Vector512.LoadUnsafe(ref p, (nuint)i);
                var grad = Vector512.LoadUnsafe(ref g, (nuint)i) + decay * theta;
                var square = rho * Vector512.LoadUnsafe(ref s, (nuint)i) + rest * (grad * grad);
                square.StoreUnsafe(ref s, (nuint)i);
                if (centered)
                {
                    var mean = rho * Vector512.LoadUnsafe(ref a, (nuint)i) + rest * grad;
                    mean.StoreUnsafe(ref a, (nuint)i);
                    square = Vector512.Max(square - mean * mean, Vector512<float>.Zero);
                }

                var step = grad / (Vector512.Sqrt(square) + eps);
                if (hasMomentum)
                {
                    step = mu * Vector512.LoadUnsafe(ref b, (nuint)i) + step;
                    step.StoreUnsafe(ref b, (nuint)i);
                }

                (theta - lr * step).StoreUnsafe(ref p, (nuint)i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            var lr = Vector256.Create(c.LearningRate);
            var rho = Vector256.Create(c.Rho);
            var rest = Vector256.Create(oneMinusRho);
            var mu = Vector256.Create(c.Momentum);
            var eps = Vector256.Create(c.Epsilon);
            var decay = Vector256.Create(c.WeightDecay);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var theta = Vector256.LoadUnsafe(ref p, (nuint)i);
                var grad = Vector256.LoadUnsafe(ref g, (nuint)i) + decay * theta;
                var square = rho * Vector256.LoadUnsafe(ref s, (nuint)i) + rest * (grad * grad);
                square.StoreUnsafe(ref s, (nuint)i);
                if (centered)
                {
                    var mean = rho * Vector256.LoadUnsafe(ref a, (nuint)i) + rest * grad;
                    mean.StoreUnsafe(ref a, (nuint)i);
                    square = Vector256.Max(square - mean * mean, Vector256<float>.Zero);
                }

                var step = grad / (Vector256.Sqrt(square) + eps);
                if (hasMomentum)
                {
                    step = mu * Vector256.LoadUnsafe(ref b, (nuint)i) + step;
                    step.StoreUnsafe(ref b, (nuint)i);
                }

                (theta - lr * step).StoreUnsafe(ref p, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            float theta = parameters[i];
            float grad = gradients[i] + c.WeightDecay * theta;
            float square = c.Rho * squareAverage[i] + oneMinusRho * (grad * grad);
            squareAverage[i] = square;
            if (centered)
            {
                float mean = c.Rho * gradientAverage[i] + oneMinusRho * grad;
                gradientAverage[i] = mean;
                square = MathF.Max(square - mean * mean, 0f);
            }

            float step = grad / (MathF.Sqrt(square) + c.Epsilon);
            if (hasMomentum)
            {
                step = c.Momentum * momentumBuffer[i] + step;
                momentumBuffer[i] = step;
            }

            parameters[i] = theta - c.LearningRate * step;
        }
    }

    private static string[] BufferNames(OptimizerSettings settings)
    {
        var names = new List<string> { "squareAverage" };
        if (settings.Momentum > 0f)
        {
            names.Add("momentumBuffer");
        }

        if (settings.Centered)
        {
            names.Add("gradientAverage");
        }

        return [.. names];
    }

    /// <summary>The scalars of one update; <see cref="WeightDecay"/> is 0 for biases.</summary>
    internal readonly record struct Coefficients(
        float LearningRate,
        float Rho,
        float Momentum,
        float Epsilon,
        float WeightDecay);
}
