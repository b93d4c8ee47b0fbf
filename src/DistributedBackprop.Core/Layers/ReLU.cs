using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace DistributedBackprop.Core.Layers;

/// <summary>Rectified linear unit: <c>y = max(x, 0)</c>; the gradient at 0 is taken as 0.</summary>
public sealed class ReLU : ElementwiseActivation
{
    public override string Type => "relu";

    private protected override void Activate(ReadOnlySpan<float> input, Span<float> output) =>
        TensorPrimitives.Max(input, 0f, output);

    private protected override void Differentiate(
        ReadOnlySpan<float> input,
        ReadOnlySpan<float> output,
        ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient) =>
        ScaleWhereNotPositive(input, outputGradient, 0f, inputGradient);
}
