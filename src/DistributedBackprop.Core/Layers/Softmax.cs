using System.Diagnostics;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace DistributedBackprop.Core.Layers;

/// <summary>
/// Softmax over the last dimension: <c>y_i = e^(x_i - max x) / Σ_j e^(x_j - max x)</c>. Meant for inference
/// outputs; for training, a classifier should end in logits and use the fused softmax cross-entropy loss,
/// which is cheaper and more accurate. Backward is exact: <c>dx = y ⊙ (dy - (dy · y))</c> per row.
/// </summary>
public sealed class Softmax : Layer
{
    private readonly TensorBuffer _output = new();
    private readonly TensorBuffer _inputGradient = new();
    private Tensor? _lastOutput;
    private int _width;

    public override string Type => "softmax";

    // input: (batch, ..., width) → output: same shape, each last-dimension row summing to 1
    public override Tensor Forward(Tensor input, LayerContext context)
    {
        ArgumentNullException.ThrowIfNull(input);
        var output = _output.Get(input.Shape[0], OutputShape);
        ReadOnlySpan<float> x = input.Span;
        var y = output.Span;
        Debug.Assert(x.Length % _width == 0, "softmax input length must be a multiple of the last dimension");

        // Subtracting the row maximum keeps every exponent ≤ 0, so nothing overflows.
        for (int start = 0; start < x.Length; start += _width)
        {
            var row = x.Slice(start, _width);
            var outRow = y.Slice(start, _width);
            TensorPrimitives.Subtract(row, TensorPrimitives.Max(row), outRow);
            TensorPrimitives.Exp(outRow, outRow);
            TensorPrimitives.Divide(outRow, TensorPrimitives.Sum(outRow), outRow);
        }

        _lastOutput = output;
        return output;
    }

    public override Tensor? Backward(Tensor outputGradient, LayerContext context, bool needInputGradient)
    {
        ArgumentNullException.ThrowIfNull(outputGradient);
        if (!needInputGradient)
        {
            return null;
        }

        var output = _lastOutput ?? throw new InvalidOperationException("softmax backward called before forward.");
        var inputGradient = _inputGradient.Get(output.Shape[0], InputShape);
        ReadOnlySpan<float> y = output.Span;
        ReadOnlySpan<float> dy = outputGradient.Span;
        var dx = inputGradient.Span;
        for (int start = 0; start < y.Length; start += _width)
        {
            var yRow = y.Slice(start, _width);
            var dyRow = dy.Slice(start, _width);
            var dxRow = dx.Slice(start, _width);
            TensorPrimitives.Subtract(dyRow, TensorPrimitives.Dot(dyRow, yRow), dxRow);
            TensorPrimitives.Multiply(dxRow, yRow, dxRow);
        }

        return inputGradient;
    }

    protected override int[] OnBuild(int[] inputShape, ParameterLayoutBuilder parameters)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Length == 0 || inputShape[^1] <= 0)
        {
            throw new ArgumentException(
                $"Softmax normalises over the last dimension, which must be positive; the input shape is "
                + $"{ShapeUtil.Format(inputShape)}.",
                nameof(inputShape));
        }

        _width = inputShape[^1];
        return inputShape.ToArray();
    }
}
