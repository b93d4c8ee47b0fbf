using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace DistributedBackprop.Core.Layers;

/// <summary>Leaky ReLU: <c>y = x</c> for x &gt; 0, else <c>slope · x</c>.</summary>
/// <exception cref="ArgumentOutOfRangeException"><paramref name="slope"/> is outside [0, 1).</exception>
public sealed class LeakyReLU(float slope = 0.01f) : ElementwiseActivation
{
    // A slope in [0, 1) keeps x ≥ slope·x for x > 0 and the reverse for x < 0, so forward is a plain max.
    private readonly float _slope = slope >= 0f && slope < 1f
        ? slope
        : throw new ArgumentOutOfRangeException(nameof(slope), slope, "A leaky ReLU slope must be in [0, 1).");

    public override string Type => "leakyrelu";

    public float Slope => _slope;

    private protected override void Activate(ReadOnlySpan<float> input, Span<float> output)
    {
        TensorPrimitives.Multiply(input, _slope, output);
        TensorPrimitives.Max(input, output, output);
    }

    private protected override void Differentiate(
        ReadOnlySpan<float> input,
        ReadOnlySpan<float> output,
        ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient) =>
        ScaleWhereNotPositive(input, outputGradient, _slope, inputGradient);
}
