using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace DistributedBackprop.Core.Layers;

/// <summary>
/// Gaussian error linear unit, tanh approximation (Hendrycks and Gimpel, "Gaussian Error Linear Units", 2016):
/// <c>y = ½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))</c>. Backward differentiates this approximation exactly,
/// not the erf form.
/// </summary>
public sealed class Gelu : ElementwiseActivation
{
    // The tanh form is used because .NET has no vectorized erf.
    private const float Cubic = 0.044715f;
    private static readonly float SqrtTwoOverPi = MathF.Sqrt(2f / MathF.PI);

    // tanh(√(2/π) (x + 0.044715 x³)) from the last forward; backward needs it and recomputing costs a tanh.
    private float[] _tanh = [];
    private float[] _scratch = [];

    public override string Type => "gelu";

    private protected override void Activate(ReadOnlySpan<float> input, Span<float> output)
    {
        if (_tanh.Length < input.Length)
        {
            _tanh = new float[input.Length];
        }

        var t = _tanh.AsSpan(0, input.Length);
        TensorPrimitives.Multiply(input, input, t);
        TensorPrimitives.Multiply(t, input, t);
        TensorPrimitives.MultiplyAdd(t, Cubic, input, t);
        TensorPrimitives.Multiply(t, SqrtTwoOverPi, t);
        TensorPrimitives.Tanh(t, t);

        // y = ½ (x·t + x)
        TensorPrimitives.MultiplyAdd(t, input, input, output);
        TensorPrimitives.Multiply(output, 0.5f, output);
    }

    // dy/dx = ½ (1 + t) + ½ √(2/π) x (1 + 3·0.044715 x²) (1 - t²)
    private protected override void Differentiate(
        ReadOnlySpan<float> input,
        ReadOnlySpan<float> output,
        ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient)
    {
        if (_scratch.Length < input.Length)
        {
            _scratch = new float[input.Length];
        }

        ReadOnlySpan<float> t = _tanh.AsSpan(0, input.Length);
        var oneMinusTSquared = _scratch.AsSpan(0, input.Length);
        TensorPrimitives.Multiply(t, t, oneMinusTSquared);
        TensorPrimitives.Subtract(1f, oneMinusTSquared, oneMinusTSquared);

        var d = inputGradient;
        TensorPrimitives.Multiply(input, input, d);
        TensorPrimitives.Multiply(d, input, d);
        TensorPrimitives.MultiplyAdd(d, 3f * Cubic, input, d);
        TensorPrimitives.Multiply(d, oneMinusTSquared, d);
        TensorPrimitives.Multiply(d, 0.5f * SqrtTwoOverPi, d);
        TensorPrimitives.MultiplyAdd(t, 0.5f, d, d);
        TensorPrimitives.Add(d, 0.5f, d);
        TensorPrimitives.Multiply(d, outputGradient, d);
    }
}
