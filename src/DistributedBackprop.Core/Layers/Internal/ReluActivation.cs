using System.Numerics;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Layers.Internal;

/// <summary>
/// max(0, x) for any shape: the middle activation of <see cref="ResidualBlock.Basic"/>. Kept internal so the block
/// does not depend on the public activation layers; the gradient at exactly zero is taken as zero.
/// </summary>
internal sealed class ReluActivation : Layer
{
    private readonly TensorBuffer _output = new();
    private readonly TensorBuffer _inputGradient = new();
    private Tensor? _outputView;

    public override string Type => "relu";

    // input: (batch, ...shape) → output: same shape
    public override Tensor Forward(Tensor input, LayerContext context)
    {
        BatchShape.Require(input, InputShape, Type, nameof(input));

        var output = _output.Get(input.Shape[0], OutputShape);
        Apply(input.Span, output.Span);
        _outputView = output;
        return output;
    }

    public override Tensor? Backward(Tensor outputGradient, LayerContext context, bool needInputGradient)
    {
        BatchShape.Require(outputGradient, OutputShape, Type, nameof(outputGradient));
        if (_outputView is null || _outputView.Shape[0] != outputGradient.Shape[0])
        {
            throw new InvalidOperationException("relu Backward needs a Forward on a batch of the same size first.");
        }

        if (!needInputGradient)
        {
            return null;
        }

        var inputGradient = _inputGradient.Get(outputGradient.Shape[0], InputShape);
        Mask(_outputView.Span, outputGradient.Span, inputGradient.Span);
        return inputGradient;
    }

    /// <summary>output[i] = max(0, input[i]); NaN and −0 pass through. May run in place.</summary>
    public static void Apply(ReadOnlySpan<float> input, Span<float> output)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= input.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var x = new Vector<float>(input[i..]);
                Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), Vector<float>.Zero, x)
                    .CopyTo(output[i..]);
            }
        }

        for (; i < input.Length; i++)
        {
            output[i] = input[i] < 0f ? 0f : input[i];
        }
    }

    /// <summary>inputGradient[i] = outputGradient[i] where the forward output was positive, else zero.</summary>
    public static void Mask(ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= output.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var positive = Vector.GreaterThan(new Vector<float>(output[i..]), Vector<float>.Zero);
                Vector.ConditionalSelect(positive, new Vector<float>(outputGradient[i..]), Vector<float>.Zero)
                    .CopyTo(inputGradient[i..]);
            }
        }

        for (; i < output.Length; i++)
        {
            inputGradient[i] = output[i] > 0f ? outputGradient[i] : 0f;
        }
    }

    protected override int[] OnBuild(int[] inputShape, ParameterLayoutBuilder parameters) => inputShape.ToArray();
}
