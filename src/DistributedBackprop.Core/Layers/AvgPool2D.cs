using DistributedBackprop.Core.Kernels;
using DistributedBackprop.Core.Layers.Internal;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Layers;

/// <summary>Mean over square windows of each channel, without padding.</summary>
public sealed class AvgPool2D : Layer
{
    private readonly int _size;
    private readonly int _stride;
    private readonly TensorBuffer _output = new();
    private readonly TensorBuffer _inputGradient = new();
    private readonly Action<int, int, int> _forwardRange;
    private readonly Action<int, int, int> _backwardRange;

    private ConvGeometry _geometry;
    private Tensor? _input;
    private Tensor? _outputView;
    private Tensor? _outputGradient;
    private Tensor? _inputGradientView;

    /// <param name="size">Window height and width.</param>
    /// <param name="stride">Step between windows; defaults to <paramref name="size"/> (no overlap).</param>
    public AvgPool2D(int size, int? stride = null)
    {
        PoolingShape.RequireWindow("AvgPool2D", size, stride ?? size);
        _size = size;
        _stride = stride ?? size;
        _forwardRange = ForwardRange;
        _backwardRange = BackwardRange;
    }

    public override string Type => "avgpool2d";

    public int Size => _size;

    public int Stride => _stride;

    // input: (batch, C, H, W) → output: (batch, C, OH, OW)
    public override Tensor Forward(Tensor input, LayerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        BatchShape.Require(input, InputShape, Type, nameof(input));

        int batch = input.Shape[0];
        var output = _output.Get(batch, OutputShape);
        _input = input;
        _outputView = output;
        ParallelRanges.For(batch, context.Threads, _forwardRange);
        _outputView = null;
        return output;
    }

    // outputGradient: (batch, C, OH, OW) → input gradient: (batch, C, H, W)
    public override Tensor? Backward(Tensor outputGradient, LayerContext context, bool needInputGradient)
    {
        ArgumentNullException.ThrowIfNull(context);
        BatchShape.Require(outputGradient, OutputShape, Type, nameof(outputGradient));
        if (_input is null || _input.Shape[0] != outputGradient.Shape[0])
        {
            throw new InvalidOperationException(
                "AvgPool2D.Backward needs a Forward on a batch of the same size first.");
        }

        if (!needInputGradient)
        {
            return null;
        }

        int batch = outputGradient.Shape[0];
        var inputGradient = _inputGradient.Get(batch, InputShape);
        _outputGradient = outputGradient;
        _inputGradientView = inputGradient;
        ParallelRanges.For(batch, context.Threads, _backwardRange);
        _outputGradient = null;
        _inputGradientView = null;
        return inputGradient;
    }

    protected override int[] OnBuild(int[] inputShape, ParameterLayoutBuilder parameters)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        _geometry = PoolingShape.Geometry("AvgPool2D", inputShape, _size, _stride);
        return [_geometry.Channels, _geometry.OutHeight, _geometry.OutWidth];
    }

    private void ForwardRange(int worker, int first, int end)
    {
        var g = _geometry;
        int planeLength = g.Height * g.Width;
        int outputLength = g.Channels * g.ColumnCount;
        float scale = 1f / (g.Kernel * g.Kernel);
        var input = _input!.Span;
        var output = _outputView!.Span;

        for (int b = first; b < end; b++)
        {
            var image = input.Slice(b * g.ImageLength, g.ImageLength);
            var pooled = output.Slice(b * outputLength, outputLength);
            int o = 0;
            for (int c = 0; c < g.Channels; c++)
            {
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    for (int ow = 0; ow < g.OutWidth; ow++, o++)
                    {
                        int start = c * planeLength + oh * g.Stride * g.Width + ow * g.Stride;
                        float sum = 0f;
                        for (int i = 0; i < g.Kernel; i++)
                        {
                            var row = image.Slice(start + i * g.Width, g.Kernel);
                            foreach (float v in row)
                            {
                                sum += v;
                            }
                        }

                        pooled[o] = sum * scale;
                    }
                }
            }
        }
    }

    private void BackwardRange(int worker, int first, int end)
    {
        var g = _geometry;
        int planeLength = g.Height * g.Width;
        int outputLength = g.Channels * g.ColumnCount;
        float scale = 1f / (g.Kernel * g.Kernel);
        var outputGradient = _outputGradient!.Span;
        var inputGradient = _inputGradientView!.Span;

        for (int b = first; b < end; b++)
        {
            var source = outputGradient.Slice(b * outputLength, outputLength);
            var target = inputGradient.Slice(b * g.ImageLength, g.ImageLength);
            target.Clear();
            int o = 0;
            for (int c = 0; c < g.Channels; c++)
            {
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    for (int ow = 0; ow < g.OutWidth; ow++, o++)
                    {
                        int start = c * planeLength + oh * g.Stride * g.Width + ow * g.Stride;
                        float share = source[o] * scale;
                        for (int i = 0; i < g.Kernel; i++)
                        {
                            var row = target.Slice(start + i * g.Width, g.Kernel);
                            for (int j = 0; j < row.Length; j++)
                            {
                                row[j] += share;
                            }
                        }
                    }
                }
            }
        }
    }
}
