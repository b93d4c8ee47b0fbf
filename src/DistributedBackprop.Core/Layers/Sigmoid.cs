using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace DistributedBackprop.Core.Layers;

/// <summary>Logistic sigmoid: <c>y = 1 / (1 + e^-x)</c>, with <c>dy/dx = y (1 - y)</c>.</summary>
public sealed class Sigmoid : ElementwiseActivation
{
    public override string Type => "sigmoid";

    private protected override void Activate(ReadOnlySpan<float> input, Span<float> output) =>
        TensorPrimitives.Sigmoid(input, output);

    private protected override void Differentiate(
        ReadOnlySpan<float> input,
        ReadOnlySpan<float> output,
        ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient)
    {
        TensorPrimitives.Subtract(1f, output, inputGradient);
        TensorPrimitives.Multiply(inputGradient, output, inputGradient);
        TensorPrimitives.Multiply(inputGradient, outputGradient, inputGradient);
    }
}
