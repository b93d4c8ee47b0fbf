using DistributedBackprop.Core.Kernels;
using DistributedBackprop.Core.Layers.Internal;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Layers;

/// <summary>
/// What the square-window pooling layers share: shape checks, reused buffers, and the split of a batch over
/// threads by sample. Each sample is pooled by one thread, so results do not depend on the thread count.
/// Subclasses pool samples [first, end) of the tensors exposed here.
/// </summary>
public abstract class Pool2D : Layer
{
    private readonly string _name;
    private readonly TensorBuffer _output = new();
    private readonly TensorBuffer _inputGradient = new();
    private readonly Action<int, int, int> _forwardRange;
    private readonly Action<int, int, int> _backwardRange;

    /// <param name="size">Window height and width.</param>
    /// <param name="stride">Step between windows; defaults to <paramref name="size"/> (no overlap).</param>
    private protected Pool2D(string name, int size, int? stride)
    {
        PoolingShape.RequireWindow(name, size, stride ?? size);
        _name = name;
        Size = size;
        Stride = stride ?? size;
        _forwardRange = ForwardRange;
        _backwardRange = BackwardRange;
    }

    public int Size { get; }

    public int Stride { get; }

    private protected ConvGeometry Geometry { get; private set; }

    /// <summary>The last forward's input, (batch, C, H, W); kept for backward.</summary>
    private protected Tensor? Input { get; private set; }

    /// <summary>The output being written by the current forward, (batch, C, OH, OW).</summary>
    private protected Tensor? Output { get; private set; }

    /// <summary>The gradient being read by the current backward, (batch, C, OH, OW).</summary>
    private protected Tensor? OutputGradient { get; private set; }

    /// <summary>The input gradient being written by the current backward, (batch, C, H, W).</summary>
    private protected Tensor? InputGradient { get; private set; }

    // input: (batch, C, H, W) → output: (batch, C, OH, OW)
    public sealed override Tensor Forward(Tensor input, LayerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        BatchShape.Require(input, InputShape, Type, nameof(input));

        int batch = input.Shape[0];
        var output = _output.Get(batch, OutputShape);
        PrepareForward(output.Length);
        Input = input;
        Output = output;
        ParallelRanges.For(batch, context.Threads, _forwardRange);
        Output = null;
        return output;
    }

    // outputGradient: (batch, C, OH, OW) → input gradient: (batch, C, H, W)
    public sealed override Tensor? Backward(Tensor outputGradient, LayerContext context, bool needInputGradient)
    {
        ArgumentNullException.ThrowIfNull(context);
        BatchShape.Require(outputGradient, OutputShape, Type, nameof(outputGradient));
        if (Input is null || Input.Shape[0] != outputGradient.Shape[0])
        {
            throw new InvalidOperationException(
                $"{_name}.Backward needs a Forward on a batch of the same size first.");
        }

        if (!needInputGradient)
        {
            return null;
        }

        int batch = outputGradient.Shape[0];
        var inputGradient = _inputGradient.Get(batch, InputShape);
        OutputGradient = outputGradient;
        InputGradient = inputGradient;
        ParallelRanges.For(batch, context.Threads, _backwardRange);
        OutputGradient = null;
        InputGradient = null;
        return inputGradient;
    }

    /// <summary>Called before each forward with the output's element count, e.g. to size per-output state.</summary>
    private protected virtual void PrepareForward(int outputLength)
    {
    }

    /// <summary>Pools samples [first, end) of <see cref="Input"/> into <see cref="Output"/>.</summary>
    private protected abstract void ForwardRange(int worker, int first, int end);

    /// <summary>Writes samples [first, end) of <see cref="InputGradient"/> from <see cref="OutputGradient"/>.</summary>
    private protected abstract void BackwardRange(int worker, int first, int end);

    protected sealed override int[] OnBuild(int[] inputShape, ParameterLayoutBuilder parameters)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        Geometry = PoolingShape.Geometry(_name, inputShape, Size, Stride);
        return [Geometry.Channels, Geometry.OutHeight, Geometry.OutWidth];
    }
}
