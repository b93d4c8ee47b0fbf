using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using DistributedBackprop.Core.Kernels;
using DistributedBackprop.Core.Layers.Internal;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Layers;

/// <summary>
/// 2-D convolution over (channels, height, width) images with square kernels and zero padding,
/// computed per sample as im2col followed by one GEMM.
/// </summary>
/// <remarks>
/// Parameters: <c>weight</c> (filters, inChannels, k, k), He-normal; <c>bias</c> (filters), zeros.
/// Samples are spread over <see cref="LayerContext.Threads"/>; weight and bias gradients are first computed per
/// sample, then summed in ascending sample order, so results are bit-identical for any thread count.
/// </remarks>
public sealed class Conv2D : Layer
{
    private readonly int _filters;
    private readonly int _kernelSize;
    private readonly int _stride;
    private readonly int _padding;
    private readonly TensorBuffer _output = new();
    private readonly TensorBuffer _inputGradient = new();
    private readonly Action<int, int, int> _forwardRange;
    private readonly Action<int, int, int> _backwardRange;

    private ConvGeometry _geometry;
    private ParameterSegment? _weight;
    private ParameterSegment? _bias;
    private float[] _parameters = [];
    private float[] _gradients = [];

    // One im2col scratch matrix (C·k·k, OH·OW) per worker, reused across steps.
    private float[][] _columns = [];

    // Per-sample weight gradients (batch, filters, C·k·k) and bias gradients (batch, filters), summed afterwards.
    private float[] _weightPartials = [];
    private float[] _biasPartials = [];

    // State of the pass in progress, read by the range delegates.
    private Tensor? _input;
    private Tensor? _outputView;
    private Tensor? _outputGradient;
    private Tensor? _inputGradientView;
    private int _gemmThreads = 1;

    public Conv2D(int filters, int kernelSize, int stride = 1, int padding = 0)
    {
        if (filters <= 0)
        {
            throw new ArgumentException($"Conv2D filters must be positive, got {filters}.", nameof(filters));
        }

        if (kernelSize <= 0)
        {
            throw new ArgumentException($"Conv2D kernelSize must be positive, got {kernelSize}.", nameof(kernelSize));
        }

        if (stride <= 0)
        {
            throw new ArgumentException($"Conv2D stride must be positive, got {stride}.", nameof(stride));
        }

        if (padding < 0)
        {
            throw new ArgumentException($"Conv2D padding must be zero or positive, got {padding}.", nameof(padding));
        }

        _filters = filters;
        _kernelSize = kernelSize;
        _stride = stride;
        _padding = padding;
        _forwardRange = ForwardRange;
        _backwardRange = BackwardRange;
    }

    public override string Type => "conv2d";

    public int Filters => _filters;

    public int KernelSize => _kernelSize;

    public int Stride => _stride;

    public int Padding => _padding;

    public override void Bind(float[] parameters, float[] gradients)
    {
        _parameters = parameters;
        _gradients = gradients;
    }

    /// <summary>He-normal weights, std = √(2 / (inChannels·k·k)); zero bias.</summary>
    public override void Initialize(float[] parameters, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var weight = Segment(_weight);
        var bias = Segment(_bias);
        FillHeNormal(parameters.AsSpan(weight.Offset, weight.Length), _geometry.ColumnRows, seed, (ulong)weight.Offset);
        parameters.AsSpan(bias.Offset, bias.Length).Clear();
    }

    // input: (batch, C, H, W) → output: (batch, filters, OH, OW)
    public override Tensor Forward(Tensor input, LayerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        BatchShape.Require(input, InputShape, Type, nameof(input));

        int batch = input.Shape[0];
        var output = _output.Get(batch, OutputShape);
        _input = input;
        _outputView = output;
        PrepareWorkers(batch, context.Threads, needPartials: false);

        ParallelRanges.For(batch, context.Threads, _forwardRange);

        _outputView = null;
        return output;
    }

    // outputGradient: (batch, filters, OH, OW) → input gradient: (batch, C, H, W)
    public override Tensor? Backward(Tensor outputGradient, LayerContext context, bool needInputGradient)
    {
        ArgumentNullException.ThrowIfNull(context);
        BatchShape.Require(outputGradient, OutputShape, Type, nameof(outputGradient));
        if (_input is null || _input.Shape[0] != outputGradient.Shape[0])
        {
            throw new InvalidOperationException("Conv2D.Backward needs a Forward on a batch of the same size first.");
        }

        int batch = outputGradient.Shape[0];
        var inputGradient = needInputGradient ? _inputGradient.Get(batch, InputShape) : null;
        _outputGradient = outputGradient;
        _inputGradientView = inputGradient;
        PrepareWorkers(batch, context.Threads, needPartials: true);

        ParallelRanges.For(batch, context.Threads, _backwardRange);

        SumPartials(batch);
        _outputGradient = null;
        _inputGradientView = null;
        return inputGradient;
    }

    protected override int[] OnBuild(int[] inputShape, ParameterLayoutBuilder parameters)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        ArgumentNullException.ThrowIfNull(parameters);
        if (inputShape.Length != 3 || inputShape.Any(d => d <= 0))
        {
            throw new ArgumentException(
                $"Conv2D expects a (channels, height, width) input shape with positive sizes, got "
                + $"{ShapeUtil.Format(inputShape)}.",
                nameof(inputShape));
        }

        _geometry = new ConvGeometry(inputShape[0], inputShape[1], inputShape[2], _kernelSize, _stride, _padding);
        if (!_geometry.Fits)
        {
            throw new ArgumentException(
                $"Conv2D kernelSize {_kernelSize} with padding {_padding} does not fit input "
                + $"{ShapeUtil.Format(inputShape)}: the output would be empty. Use a smaller kernel or more padding.",
                nameof(inputShape));
        }

        _weight = parameters.Add("weight", ParameterKind.Weight, _filters, inputShape[0], _kernelSize, _kernelSize);
        _bias = parameters.Add("bias", ParameterKind.Bias, _filters);
        return [_filters, _geometry.OutHeight, _geometry.OutWidth];
    }

    private void ForwardRange(int worker, int first, int end)
    {
        var input = _input!;
        var output = _outputView!;
        var columns = _columns[worker].AsSpan();
        int rows = _geometry.ColumnRows;
        int positions = _geometry.ColumnCount;
        int imageLength = _geometry.ImageLength;
        int outputLength = _filters * positions;
        var weight = _parameters.AsSpan(_weight!.Offset, _weight.Length);
        var bias = _parameters.AsSpan(_bias!.Offset, _bias.Length);

        for (int b = first; b < end; b++)
        {
            var image = input.Span.Slice(b * imageLength, imageLength);
            var result = output.Span.Slice(b * outputLength, outputLength);
            Im2Col.ImageToColumns(_geometry, image, columns);

            // (filters, C·k·k) · (C·k·k, OH·OW) = (filters, OH·OW)
            Gemm.Multiply(
                Transpose.No, Transpose.No, _filters, positions, rows, weight, columns, result,
                threads: _gemmThreads);

            for (int f = 0; f < _filters; f++)
            {
                var line = result.Slice(f * positions, positions);
                TensorPrimitives.Add(line, bias[f], line);
            }
        }
    }

    private void BackwardRange(int worker, int first, int end)
    {
        var input = _input!;
        var outputGradient = _outputGradient!;
        var inputGradient = _inputGradientView;
        var columns = _columns[worker].AsSpan();
        int rows = _geometry.ColumnRows;
        int positions = _geometry.ColumnCount;
        int imageLength = _geometry.ImageLength;
        int outputLength = _filters * positions;
        var weight = _parameters.AsSpan(_weight!.Offset, _weight.Length);

        for (int b = first; b < end; b++)
        {
            var gradient = outputGradient.Span.Slice(b * outputLength, outputLength);

            // The columns are rebuilt rather than kept from forward: a batch of them can be tens of megabytes.
            Im2Col.ImageToColumns(_geometry, input.Span.Slice(b * imageLength, imageLength), columns);

            // (filters, OH·OW) · (OH·OW, C·k·k) = (filters, C·k·k) for this sample only.
            Gemm.Multiply(
                Transpose.No, Transpose.Yes, _filters, rows, positions, gradient, columns,
                _weightPartials.AsSpan(b * _filters * rows, _filters * rows), threads: _gemmThreads);

            var biasPartial = _biasPartials.AsSpan(b * _filters, _filters);
            for (int f = 0; f < _filters; f++)
            {
                biasPartial[f] = SumInOrder(gradient.Slice(f * positions, positions));
            }

            if (inputGradient is null)
            {
                continue;
            }

            // (C·k·k, filters) · (filters, OH·OW) = (C·k·k, OH·OW), then scattered back onto the image.
            Gemm.Multiply(
                Transpose.Yes, Transpose.No, rows, positions, _filters, weight, gradient, columns,
                threads: _gemmThreads);
            var imageGradient = inputGradient.Span.Slice(b * imageLength, imageLength);
            imageGradient.Clear();
            Im2Col.AddColumnsToImage(_geometry, columns, imageGradient);
        }
    }

    // Weight and bias gradients: sums of the per-sample parts in ascending sample order.
    private void SumPartials(int batch)
    {
        int weightLength = _weight!.Length;
        var weightGradient = _gradients.AsSpan(_weight.Offset, weightLength);
        var biasGradient = _gradients.AsSpan(_bias!.Offset, _filters);
        _weightPartials.AsSpan(0, weightLength).CopyTo(weightGradient);
        _biasPartials.AsSpan(0, _filters).CopyTo(biasGradient);
        for (int b = 1; b < batch; b++)
        {
            var weightPartial = _weightPartials.AsSpan(b * weightLength, weightLength);
            TensorPrimitives.Add(weightGradient, weightPartial, weightGradient);
            TensorPrimitives.Add(biasGradient, _biasPartials.AsSpan(b * _filters, _filters), biasGradient);
        }
    }

    private void PrepareWorkers(int batch, int threads, bool needPartials)
    {
        int workers = ParallelRanges.Workers(batch, threads);
        _gemmThreads = Math.Max(1, threads / workers);
        int columnLength = _geometry.ColumnRows * _geometry.ColumnCount;
        if (_columns.Length < workers)
        {
            var grown = new float[workers][];
            for (int w = 0; w < workers; w++)
            {
                grown[w] = w < _columns.Length ? _columns[w] : new float[columnLength];
            }

            _columns = grown;
        }

        if (needPartials && _weightPartials.Length < batch * _weight!.Length)
        {
            _weightPartials = new float[batch * _weight.Length];
            _biasPartials = new float[batch * _filters];
        }
    }

    // A plain left-to-right sum: TensorPrimitives.Sum's association depends on the data's memory alignment.
    private static float SumInOrder(ReadOnlySpan<float> values)
    {
        float sum = 0f;
        foreach (float v in values)
        {
            sum += v;
        }

        return sum;
    }

    // He et al. 2015 ("Delving Deep into Rectifiers"): N(0, 2 / fanIn), drawn from the segment's own stream so a
    // layer's initial values do not depend on the layers before it. A local fill with the same (seed, stream)
    // convention as the shared initialisers, so either can produce these values.
    private static void FillHeNormal(Span<float> values, int fanIn, ulong seed, ulong stream)
    {
        var random = new DeterministicRandom(seed, stream);
        double std = Math.Sqrt(2.0 / fanIn);
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(random.NextGaussian() * std);
        }
    }

    private static ParameterSegment Segment(ParameterSegment? segment) =>
        segment ?? throw new InvalidOperationException("Conv2D layer is not built.");
}
