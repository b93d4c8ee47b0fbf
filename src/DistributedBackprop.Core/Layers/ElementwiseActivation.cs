using System.Numerics;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Layers;

/// <summary>
/// A parameter-free activation applied to each element independently; output shape equals input shape.
/// </summary>
public abstract class ElementwiseActivation : Layer
{
    private readonly TensorBuffer _output = new();
    private readonly TensorBuffer _inputGradient = new();
    private Tensor? _input;
    private Tensor? _lastOutput;

    // Whether the layer before applies this activation itself (see LayerFusion): tensors then pass through.
    private bool _fused;

    private protected ElementwiseActivation()
    {
    }

    // input: (batch, ...shape) → output: (batch, ...shape)
    public override Tensor Forward(Tensor input, LayerContext context)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (_fused)
        {
            _input = input;
            return input;
        }

        var output = _output.Get(input.Shape[0], OutputShape);
        Activate(input.Span, output.Span);
        _input = input;
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

        var input = _input ?? throw new InvalidOperationException($"{Type} backward called before forward.");
        if (_fused)
        {
            return outputGradient;
        }

        var inputGradient = _inputGradient.Get(input.Shape[0], InputShape);
        Differentiate(input.Span, _lastOutput!.Span, outputGradient.Span, inputGradient.Span);
        return inputGradient;
    }

    /// <summary>Hands this activation to the layer before, which has agreed to apply it (forward and backward);
    /// set once, by <see cref="LayerFusion"/>, when the model is built.</summary>
    internal void FuseIntoPrevious() => _fused = true;

    protected override int[] OnBuild(int[] inputShape, ParameterLayoutBuilder parameters)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        return inputShape.ToArray();
    }

    /// <summary>output = f(input), element by element.</summary>
    private protected abstract void Activate(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>inputGradient = f'(input) ⊙ outputGradient, given output = f(input) from forward.</summary>
    private protected abstract void Differentiate(
        ReadOnlySpan<float> input,
        ReadOnlySpan<float> output,
        ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient);

    /// <summary>destination = condition &gt; 0 ? gradient : negativeSlope · gradient (ReLU-family backward).</summary>
    private protected static void ScaleWhereNotPositive(
        ReadOnlySpan<float> condition,
        ReadOnlySpan<float> gradient,
        float negativeSlope,
        Span<float> destination)
    {
        // TensorPrimitives has no masked select, so this is a plain Vector<float> loop with a scalar tail.
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var slope = new Vector<float>(negativeSlope);
            for (; i <= condition.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var c = new Vector<float>(condition[i..]);
                var g = new Vector<float>(gradient[i..]);
                Vector.ConditionalSelect(Vector.GreaterThan(c, Vector<float>.Zero), g, g * slope)
                    .CopyTo(destination[i..]);
            }
        }

        for (; i < condition.Length; i++)
        {
            destination[i] = condition[i] > 0f ? gradient[i] : negativeSlope * gradient[i];
        }
    }
}
