using DistributedBackprop.Core.Layers.Internal;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Layers;

/// <summary>Mean of each channel over its whole plane: (C, H, W) → (C).</summary>
public sealed class GlobalAvgPool : Layer
{
    private readonly TensorBuffer _output = new();
    private readonly TensorBuffer _inputGradient = new();
    private int _planeLength;
    private int _batch = -1;

    public override string Type => "globalavgpool";

    // input: (batch, C, H, W) → output: (batch, C)
    public override Tensor Forward(Tensor input, LayerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        BatchShape.Require(input, InputShape, Type, nameof(input));

        int batch = input.Shape[0];
        var output = _output.Get(batch, OutputShape);
        var source = input.Span;
        var target = output.Span;
        float scale = 1f / _planeLength;
        for (int plane = 0; plane < target.Length; plane++)
        {
            // Ascending order on one thread: the mean must not depend on the data's alignment or thread count.
            float sum = 0f;
            foreach (float v in source.Slice(plane * _planeLength, _planeLength))
            {
                sum += v;
            }

            target[plane] = sum * scale;
        }

        _batch = batch;
        return output;
    }

    // outputGradient: (batch, C) → input gradient: (batch, C, H, W)
    public override Tensor? Backward(Tensor outputGradient, LayerContext context, bool needInputGradient)
    {
        ArgumentNullException.ThrowIfNull(context);
        BatchShape.Require(outputGradient, OutputShape, Type, nameof(outputGradient));
        if (_batch != outputGradient.Shape[0])
        {
            throw new InvalidOperationException(
                "GlobalAvgPool.Backward needs a Forward on a batch of the same size first.");
        }

        if (!needInputGradient)
        {
            return null;
        }

        var inputGradient = _inputGradient.Get(_batch, InputShape);
        var source = outputGradient.Span;
        var target = inputGradient.Span;
        float scale = 1f / _planeLength;
        for (int plane = 0; plane < source.Length; plane++)
        {
            target.Slice(plane * _planeLength, _planeLength).Fill(source[plane] * scale);
        }

        return inputGradient;
    }

    protected override int[] OnBuild(int[] inputShape, ParameterLayoutBuilder parameters)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Length != 3 || inputShape.Any(d => d <= 0))
        {
            throw new ArgumentException(
                $"GlobalAvgPool expects a (channels, height, width) input shape with positive sizes, got "
                + $"{ShapeUtil.Format(inputShape)}.",
                nameof(inputShape));
        }

        _planeLength = inputShape[1] * inputShape[2];
        return [inputShape[0]];
    }
}
