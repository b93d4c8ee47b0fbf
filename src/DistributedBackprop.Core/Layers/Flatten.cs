using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Layers;

/// <summary>
/// Reshapes each sample to one dimension, e.g. (C, H, W) → (C·H·W), without copying: forward and backward
/// return views over the same data.
/// </summary>
public sealed class Flatten : Layer
{
    // Views are cached per source array, offset and batch so a steady-state step allocates no Tensor objects.
    private Tensor? _output;
    private Tensor? _inputGradient;

    public override string Type => "flatten";

    // input: (batch, d1, ..., dn) → output: (batch, d1·...·dn)
    public override Tensor Forward(Tensor input, LayerContext context)
    {
        ArgumentNullException.ThrowIfNull(input);
        _output = View(input, _output, OutputShape);
        return _output;
    }

    // outputGradient: (batch, d1·...·dn) → input gradient: (batch, d1, ..., dn)
    public override Tensor? Backward(Tensor outputGradient, LayerContext context, bool needInputGradient)
    {
        ArgumentNullException.ThrowIfNull(outputGradient);
        if (!needInputGradient)
        {
            return null;
        }

        _inputGradient = View(outputGradient, _inputGradient, InputShape);
        return _inputGradient;
    }

    protected override int[] OnBuild(int[] inputShape, ParameterLayoutBuilder parameters)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Length == 0)
        {
            throw new ArgumentException(
                "Flatten needs an input with at least one dimension per sample.", nameof(inputShape));
        }

        return [checked((int)ShapeUtil.Product(inputShape))];
    }

    private static Tensor View(Tensor source, Tensor? cached, int[] sampleShape)
    {
        int batch = source.Shape[0];
        bool same = cached is not null
            && cached.Data == source.Data
            && cached.Offset == source.Offset
            && cached.Shape[0] == batch;
        if (same)
        {
            return cached!;
        }

        return new Tensor(source.Data, source.Offset, ShapeUtil.WithBatch(batch, sampleShape));
    }
}
