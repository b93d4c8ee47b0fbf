using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace DistributedBackprop.Core.Layers;

/// <summary>Hyperbolic tangent: <c>y = tanh(x)</c>, with <c>dy/dx = 1 - y²</c>.</summary>
public sealed class Tanh : ElementwiseActivation
{
    public override string Type => "tanh";

    private protected override void Activate(ReadOnlySpan<float> input, Span<float> output) =>
        TensorPrimitives.Tanh(input, output);

    private protected override void Differentiate(
        ReadOnlySpan<float> input,
        ReadOnlySpan<float> output,
        ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient)
    {
        TensorPrimitives.Multiply(output, output, inputGradient);
        TensorPrimitives.Subtract(1f, inputGradient, inputGradient);
        TensorPrimitives.Multiply(inputGradient, outputGradient, inputGradient);
    }
}
