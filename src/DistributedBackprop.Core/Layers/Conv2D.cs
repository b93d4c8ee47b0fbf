using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using DistributedBackprop.Core.Kernels;
using DistributedBackprop.Core.Layers.Internal;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Layers;

/// <summary>
/// 2-D convolution over (channels, height, width) images with square kernels and zero padding, computed for
/// the whole batch as one im2col followed by one GEMM per pass.
/// </summary>
/// <remarks>
/// Parameters: <c>weight</c> (filters, inChannels, k, k), He-normal; <c>bias</c> (filters), zeros.
/// The batch's columns form one (C·k·k, batch·OH·OW) matrix, so forward is W·columns, the weight gradient is
/// dY·columnsᵀ with the whole batch in its k dimension (which the GEMM never splits across threads), and the
/// input gradient is Wᵀ·dY scattered back by col2im. im2col, col2im and the layout changes are spread over
/// samples, each writing its own place, so results are bit-identical for any thread count.
/// </remarks>
public sealed class Conv2D : Layer
{
    private readonly int _filters;
    private readonly int _kernelSize;
    private readonly int _stride;
    private readonly int _padding;
    private readonly TensorBuffer _output = new();
    private readonly TensorBuffer _inputGradient = new();
    private readonly Action<int, int, int> _imageToColumnsRange;
    private readonly Action<int, int, int> _scatterOutputRange;
    private readonly Action<int, int, int> _gatherGradientRange;
    private readonly Action<int, int, int> _columnsToImageRange;

    private ConvGeometry _geometry;
    private ParameterSegment? _weight;
    private ParameterSegment? _bias;
    private float[] _parameters = [];
    private float[] _gradients = [];

    // columns: (C·k·k, batch·OH·OW), written by forward and read by the weight gradient, then reused for the
    // column gradient Wᵀ·dY. Kept from forward: rebuilding it would cost another im2col per step.
    private float[] _columns = [];

    // filterMajor: (filters, batch·OH·OW), the GEMM's view of the output in forward and of dY in backward.
    private float[] _filterMajor = [];

    // (C·k·k, filters) scratch for a weight gradient computed transposed; see WeightGradient.
    private float[] _transposedWeightGradient = [];

    // State of the pass in progress, read by the range delegates.
    private Tensor? _input;
    private Tensor? _outputView;
    private Tensor? _outputGradient;
    private Tensor? _inputGradientView;
    private int _batch;

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
        _imageToColumnsRange = ImageToColumnsRange;
        _scatterOutputRange = ScatterOutputRange;
        _gatherGradientRange = GatherGradientRange;
        _columnsToImageRange = ColumnsToImageRange;
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
        Prepare(batch);

        ParallelRanges.For(batch, context.Threads, _imageToColumnsRange);

        // (filters, C·k·k) · (C·k·k, batch·OH·OW) = (filters, batch·OH·OW)
        int rows = _geometry.ColumnRows;
        int columns = batch * _geometry.ColumnCount;
        var weight = _parameters.AsSpan(_weight!.Offset, _weight.Length);
        Gemm.Multiply(
            Transpose.No, Transpose.No, _filters, columns, rows, weight, _columns, _filterMajor,
            threads: context.Threads);

        ParallelRanges.For(batch, context.Threads, _scatterOutputRange);

        _outputView = null;
        return output;
    }

    // outputGradient: (batch, filters, OH, OW) → input gradient: (batch, C, H, W)
    public override Tensor? Backward(Tensor outputGradient, LayerContext context, bool needInputGradient)
    {
        ArgumentNullException.ThrowIfNull(context);
        BatchShape.Require(outputGradient, OutputShape, Type, nameof(outputGradient));
        if (_input is null || _input.Shape[0] != outputGradient.Shape[0] || _batch != outputGradient.Shape[0])
        {
            throw new InvalidOperationException("Conv2D.Backward needs a Forward on a batch of the same size first.");
        }

        int batch = outputGradient.Shape[0];
        int rows = _geometry.ColumnRows;
        int columns = batch * _geometry.ColumnCount;
        _outputGradient = outputGradient;
        ParallelRanges.For(batch, context.Threads, _gatherGradientRange);

        // (filters, batch·OH·OW) · (batch·OH·OW, C·k·k) = (filters, C·k·k): the batch is the GEMM's k.
        var weightGradient = _gradients.AsSpan(_weight!.Offset, _weight.Length);
        WeightGradient(rows, columns, weightGradient, context.Threads);

        var biasGradient = _gradients.AsSpan(_bias!.Offset, _filters);
        for (int f = 0; f < _filters; f++)
        {
            biasGradient[f] = OrderedSum.Sum(_filterMajor.AsSpan(f * columns, columns));
        }

        _outputGradient = null;
        if (!needInputGradient)
        {
            return null;
        }

        // (C·k·k, filters) · (filters, batch·OH·OW) = (C·k·k, batch·OH·OW), over the columns no longer needed.
        var weight = _parameters.AsSpan(_weight.Offset, _weight.Length);
        Gemm.Multiply(
            Transpose.Yes, Transpose.No, rows, columns, _filters, weight, _filterMajor, _columns,
            threads: context.Threads);

        var inputGradient = _inputGradient.Get(batch, InputShape);
        _inputGradientView = inputGradient;
        ParallelRanges.For(batch, context.Threads, _columnsToImageRange);
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
        _transposedWeightGradient = new float[_weight.Length];
        _bias = parameters.Add("bias", ParameterKind.Bias, _filters);
        return [_filters, _geometry.OutHeight, _geometry.OutWidth];
    }

    // Sample b's image becomes columns [b·OH·OW, (b+1)·OH·OW) of the batch's column matrix.
    private void ImageToColumnsRange(int worker, int first, int end)
    {
        var input = _input!.Span;
        int imageLength = _geometry.ImageLength;
        int positions = _geometry.ColumnCount;
        int rowStride = _batch * positions;
        for (int b = first; b < end; b++)
        {
            var image = input.Slice(b * imageLength, imageLength);
            Im2Col.ImageToColumns(_geometry, image, _columns.AsSpan(b * positions), rowStride);
        }
    }

    // (filters, batch·OH·OW) + bias → output (batch, filters, OH·OW).
    private void ScatterOutputRange(int worker, int first, int end)
    {
        var output = _outputView!.Span;
        var bias = _parameters.AsSpan(_bias!.Offset, _filters);
        int positions = _geometry.ColumnCount;
        int rowStride = _batch * positions;
        for (int b = first; b < end; b++)
        {
            for (int f = 0; f < _filters; f++)
            {
                var source = _filterMajor.AsSpan(f * rowStride + b * positions, positions);
                TensorPrimitives.Add(source, bias[f], output.Slice((b * _filters + f) * positions, positions));
            }
        }
    }

    // dY (batch, filters, OH·OW) → (filters, batch·OH·OW).
    private void GatherGradientRange(int worker, int first, int end)
    {
        var outputGradient = _outputGradient!.Span;
        int positions = _geometry.ColumnCount;
        int rowStride = _batch * positions;
        for (int b = first; b < end; b++)
        {
            for (int f = 0; f < _filters; f++)
            {
                outputGradient.Slice((b * _filters + f) * positions, positions)
                    .CopyTo(_filterMajor.AsSpan(f * rowStride + b * positions, positions));
            }
        }
    }

    // Column gradients [b·OH·OW, (b+1)·OH·OW) are added back onto sample b's image gradient.
    private void ColumnsToImageRange(int worker, int first, int end)
    {
        var inputGradient = _inputGradientView!.Span;
        int imageLength = _geometry.ImageLength;
        int positions = _geometry.ColumnCount;
        int rowStride = _batch * positions;
        for (int b = first; b < end; b++)
        {
            var image = inputGradient.Slice(b * imageLength, imageLength);
            image.Clear();
            Im2Col.AddColumnsToImage(_geometry, _columns.AsSpan(b * positions), image, rowStride);
        }
    }

    // The GEMM pads C to whole micro-tiles, so a few filters over a small kernel (32 × 9) waste most of a
    // tile; the transposed product columns·dYᵀ = dWᵀ then wastes less. Each element is the same chain of
    // multiply-adds over k in ascending order either way, so the choice changes speed, not bits.
    private void WeightGradient(int rows, int columns, Span<float> weightGradient, int threads)
    {
        if (Gemm.PaddedTileArea(_filters, rows) <= Gemm.PaddedTileArea(rows, _filters))
        {
            Gemm.Multiply(
                Transpose.No, Transpose.Yes, _filters, rows, columns, _filterMajor, _columns, weightGradient,
                threads: threads);
            return;
        }

        // (C·k·k, batch·OH·OW) · (batch·OH·OW, filters) = (C·k·k, filters), then transposed into place.
        var transposed = _transposedWeightGradient.AsSpan(0, rows * _filters);
        Gemm.Multiply(
            Transpose.No, Transpose.Yes, rows, _filters, columns, _columns, _filterMajor, transposed,
            threads: threads);
        for (int f = 0; f < _filters; f++)
        {
            for (int r = 0; r < rows; r++)
            {
                weightGradient[f * rows + r] = transposed[r * _filters + f];
            }
        }
    }

    private void Prepare(int batch)
    {
        _batch = batch;
        long columnLength = (long)_geometry.ColumnRows * batch * _geometry.ColumnCount;
        long filterMajorLength = (long)_filters * batch * _geometry.ColumnCount;
        if (_columns.Length < columnLength)
        {
            _columns = new float[checked((int)columnLength)];
        }

        if (_filterMajor.Length < filterMajorLength)
        {
            _filterMajor = new float[checked((int)filterMajorLength)];
        }
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
