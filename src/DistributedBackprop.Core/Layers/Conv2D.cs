using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using DistributedBackprop.Core.Kernels;
using DistributedBackprop.Core.Layers.Internal;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Layers;

/// <summary>
/// 2-D convolution over (channels, height, width) images with square kernels and zero padding, computed as
/// im2col followed by GEMMs over groups of samples, or, for 3×3 kernels at stride 1 over 4 or more channels, as
/// Winograd F(2×2, 3×3) (Conv2D.Winograd.cs).
/// </summary>
/// <remarks>
/// Parameters: <c>weight</c> (filters, inChannels, k, k) and <c>bias</c> (filters), filled as the layer's
/// <see cref="InitKind"/> says (He-normal weights and zero bias by default).
/// The batch is cut into groups of consecutive samples, each with its own (C·k·k, group·OH·OW) column matrix,
/// small enough to stay in L2 between im2col and its GEMM. Forward (W·columns) and the input gradient (Wᵀ·dY,
/// then col2im) are independent per group and spread over <see cref="LayerContext.Threads"/>. The weight
/// gradient dY·columnsᵀ runs group after group in order, accumulating into dW: the GEMM continues each
/// element's multiply-add chain through C, so this is the same chain over the whole batch as one GEMM would
/// compute. No element's chain depends on where the group boundaries fall, so the groups are sized to share
/// the batch evenly among the threads, and results are still bit-identical for any thread count.
/// A weight gradient split by column rows (many rows, e.g. 3×3 over 32 channels) rebuilds each group's columns
/// in backward, each thread only its own rows, into a block that stays in L2: cheaper than keeping the whole
/// batch's columns from forward, which is tens of MB written to memory and read back twice. Few-row layers
/// (a first layer) keep their small column matrices instead.
/// </remarks>
public sealed partial class Conv2D : Layer
{
    // Floats of a group's column block and product together, (C·k·k + filters)·samples·OH·OW, at most (while a
    // group holds one sample): 640 KB, so that a thread's blocks and the GEMM's packed panels share its 1 MB L2.
    // A 3×3 conv over 32 channels at 14×14 then takes 2 samples per group; a whole batch's column matrix
    // streamed from memory halved the GEMM's speed.
    private const int GroupFloatsTarget = 160 * 1024;

    private readonly InitKind _init;
    private readonly int _filters;
    private readonly int _kernelSize;
    private readonly int _stride;
    private readonly int _padding;
    private readonly TensorBuffer _output = new();
    private readonly TensorBuffer _inputGradient = new();
    private readonly Action<int, int, int> _forwardRange;
    private readonly Action<int, int, int> _inputGradientRange;
    private readonly Action<int, int, int> _weightGradientRange;
    private readonly Action<int, int, int> _filterWeightGradientRange;
    private readonly Action<int, int, int> _narrowWeightGradientRange;
    private readonly Action<int, int, int> _imageToColumnsRange;
    private readonly Action<int, int, int> _gatherGradientRange;

    // Rows of dWᵀ per unit of work: the GEMM's micro-tile height, so no worker computes padding it would not
    // compute alone.
    private readonly int _weightGradientRowTile = Gemm.TileShape.Rows;

    private ConvGeometry _geometry;
    private ParameterSegment? _weight;
    private ParameterSegment? _bias;
    private float[] _parameters = [];
    private float[] _gradients = [];

    // At most this many samples per group, from GroupFloatsTarget and the geometry.
    private int _maxGroupSamples;

    // The current pass's groups, and the samples of the largest (the others hold as many or one fewer): the
    // size of a group's slot in _columns and _filterMajor.
    private int _groups;
    private int _groupSamples;

    // Group g's columns: (C·k·k, samples·OH·OW) at g·C·k·k·groupSamples·OH·OW. Written by forward and read by
    // the weight gradient, then overwritten by the column gradient Wᵀ·dY. Kept from a training forward:
    // rebuilding it would cost another im2col per step.
    private float[] _columns = [];

    // Group g's (filters, samples·OH·OW) product at g·filters·groupSamples·OH·OW: forward's output before it
    // is laid out per sample, and backward's dY in the same layout.
    private float[] _filterMajor = [];

    // dWᵀ: (C·k·k, filters), accumulated over groups; see WeightGradientRange.
    private float[] _transposedWeightGradient = [];

    // OrderedSum of each (sample, filter) row of dY, (batch, filters), taken by the gather or the narrow weight
    // gradient for the bias gradient.
    private float[] _rowSums = [];

    // Whether the narrow weight gradient takes the row sums (no gather in this backward).
    private bool _narrowRowSums;

    // Per worker of a narrow weight gradient: 8 filters' dY of one sample, transposed (OH·OW, 8).
    private float[][] _packedGradient = [];

    // State of the pass in progress, read by the range delegates.
    private Tensor? _input;
    private Tensor? _outputView;
    private Tensor? _outputGradient;
    private Tensor? _inputGradientView;
    private int _batch;

    // Whether _columns holds every group's columns of the last forward's input (training mode).
    private bool _columnsKept;

    // Threads each group's GEMM may use: more than one only when there are fewer groups than threads.
    private int _gemmThreads = 1;

    public Conv2D(int filters, int kernelSize, int stride = 1, int padding = 0, InitKind init = InitKind.HeNormal)
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

        if (!Enum.IsDefined(init))
        {
            throw new ArgumentOutOfRangeException(nameof(init), init, "Unknown initialiser kind.");
        }

        _init = init;
        _filters = filters;
        _kernelSize = kernelSize;
        _stride = stride;
        _padding = padding;
        _forwardRange = ForwardRange;
        _inputGradientRange = InputGradientRange;
        _weightGradientRange = WeightGradientRange;
        _filterWeightGradientRange = FilterWeightGradientRange;
        _narrowWeightGradientRange = NarrowWeightGradientRange;
        _imageToColumnsRange = ImageToColumnsRange;
        _gatherGradientRange = GatherGradientRange;
        _winogradForwardRange = WinogradForwardRange;
        _winogradGradientRange = WinogradGradientRange;
    }

    public override string Type => "conv2d";

    public int Filters => _filters;

    public int KernelSize => _kernelSize;

    public int Stride => _stride;

    public int Padding => _padding;

    public InitKind Init => _init;

    public override void Bind(float[] parameters, float[] gradients)
    {
        _parameters = parameters;
        _gradients = gradients;
    }

    /// <summary>
    /// Weights by the layer's <see cref="InitKind"/> with fanIn = inChannels·k·k and fanOut = filters·k·k
    /// (He-normal by default); the bias as <see cref="Initializers.FillBias"/> says. The draws come from the
    /// weight segment's own stream, so a layer's initial values do not depend on the layers before it.
    /// </summary>
    public override void Initialize(float[] parameters, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var weight = Segment(_weight);
        var bias = Segment(_bias);
        var rng = new DeterministicRandom(seed, (ulong)weight.Offset);
        int fanIn = _geometry.ColumnRows;
        int fanOut = _filters * _kernelSize * _kernelSize;
        Initializers.Fill(parameters.AsSpan(weight.Offset, weight.Length), _init, fanIn, fanOut, rng);
        Initializers.FillBias(parameters.AsSpan(bias.Offset, bias.Length), _init, fanIn, rng);
    }

    // input: (batch, C, H, W) → output: (batch, filters, OH, OW)
    public override Tensor Forward(Tensor input, LayerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        BatchShape.Require(input, InputShape, Type, nameof(input));
        if (_winograd)
        {
            return WinogradForward(input, context);
        }

        int batch = input.Shape[0];
        var output = _output.Get(batch, OutputShape);
        _input = input;
        _outputView = output;
        _batch = batch;

        // Training keeps every group's columns for a weight gradient that reads them all (class remarks);
        // otherwise, and in evaluation (often on large batches), one column block per worker.
        int groups = PlanGroups(batch, context.Threads);
        _columnsKept = context.Training && !SplitsWeightGradientByRows(context.Threads);
        int slots = _columnsKept ? groups : ParallelRanges.Workers(groups, context.Threads);
        EnsureSlots(slots, slots);
        _gemmThreads = GemmThreads(groups, context.Threads);
        ParallelRanges.For(groups, context.Threads, _forwardRange);

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

        if (_winograd)
        {
            return WinogradBackward(outputGradient, context, needInputGradient);
        }

        int batch = outputGradient.Shape[0];
        int groups = _groups;
        bool byRows = SplitsWeightGradientByRows(context.Threads);
        if (!_columnsKept && !byRows)
        {
            EnsureSlots(groups, groups);
            ParallelRanges.For(groups, context.Threads, _imageToColumnsRange);
            _columnsKept = true;
        }

        // Worker blocks for the rows split and the input gradient; when the columns are kept, their slots.
        EnsureSlots(_columnsKept ? groups : context.Threads, groups);

        _outputGradient = outputGradient;
        bool narrow = UsesNarrowWeightGradient;
        bool gather = !narrow || needInputGradient;
        if (_rowSums.Length < batch * _filters)
        {
            _rowSums = new float[batch * _filters];
        }

        // The bias gradient's row sums come from the gather, or else from the narrow kernel.
        _narrowRowSums = !gather;
        if (gather)
        {
            ParallelRanges.For(groups, context.Threads, _gatherGradientRange);
        }

        // Few column rows (e.g. a first layer on one input channel: 9) would leave the GEMM's tiles mostly
        // padding and all but one thread idle; groups of 8 filters are then split among the threads instead, and
        // read dY in place. Either way each element is the same chain over the batch.
        if (narrow)
        {
            int filterGroups = (_filters + 7) / 8;
            EnsurePackedGradient(ParallelRanges.Workers(filterGroups, context.Threads));
            ParallelRanges.For(filterGroups, context.Threads, _narrowWeightGradientRange);
        }
        else if (byRows)
        {
            ParallelRanges.For(RowTiles, context.Threads, _weightGradientRange);
            TransposeWeightGradient();
        }
        else
        {
            ParallelRanges.For(_filters, context.Threads, _filterWeightGradientRange);
        }

        BiasGradientFromRowSums();

        if (!needInputGradient)
        {
            _outputGradient = null;
            return null;
        }

        var inputGradient = _inputGradient.Get(batch, InputShape);
        _inputGradientView = inputGradient;
        _gemmThreads = GemmThreads(groups, context.Threads);
        ParallelRanges.For(groups, context.Threads, _inputGradientRange);

        // The input gradient's column blocks overwrote the workers' slots.
        _columnsKept = false;
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
        _transposedWeightGradient = new float[_weight.Length];
        _maxGroupSamples = Math.Max(
            1, GroupFloatsTarget / ((_geometry.ColumnRows + _filters) * _geometry.ColumnCount));
        _bias = parameters.Add("bias", ParameterKind.Bias, _filters);
        BuildWinograd();
        return [_filters, _geometry.OutHeight, _geometry.OutWidth];
    }

    // Per group: im2col, (filters, C·k·k) · (C·k·k, samples·OH·OW), then bias and the per-sample layout.
    private void ForwardRange(int worker, int firstGroup, int endGroup)
    {
        var input = _input!.Span;
        var output = _outputView!.Span;
        var weight = _parameters.AsSpan(_weight!.Offset, _weight.Length);
        var bias = _parameters.AsSpan(_bias!.Offset, _filters);
        int rows = _geometry.ColumnRows;
        int positions = _geometry.ColumnCount;
        for (int g = firstGroup; g < endGroup; g++)
        {
            var (first, samples) = GroupSamples(g);
            int width = samples * positions;
            int slot = _columnsKept ? g : worker;
            var columns = GroupColumns(slot, width);
            var product = GroupProduct(slot, width);
            ImageToColumns(input, g, columns);

            Gemm.Multiply(
                Transpose.No, Transpose.No, _filters, width, rows, weight, columns, product, threads: _gemmThreads);

            for (int i = 0; i < samples; i++)
            {
                for (int f = 0; f < _filters; f++)
                {
                    var source = product.Slice(f * width + i * positions, positions);
                    TensorPrimitives.Add(source, bias[f], output.Slice(((first + i) * _filters + f) * positions));
                }
            }
        }
    }

    // Group g's samples → its (C·k·k, samples·OH·OW) column matrix.
    private void ImageToColumns(ReadOnlySpan<float> input, int g, Span<float> columns)
    {
        var (first, samples) = GroupSamples(g);
        int positions = _geometry.ColumnCount;
        int imageLength = _geometry.ImageLength;
        for (int i = 0; i < samples; i++)
        {
            var image = input.Slice((first + i) * imageLength, imageLength);
            Im2Col.ImageToColumns(_geometry, image, columns[(i * positions)..], samples * positions);
        }
    }

    // Rebuilds the kept columns when backward follows an evaluation-mode forward.
    private void ImageToColumnsRange(int worker, int firstGroup, int endGroup)
    {
        for (int g = firstGroup; g < endGroup; g++)
        {
            int width = GroupSamples(g).Count * _geometry.ColumnCount;
            ImageToColumns(_input!.Span, g, GroupColumns(g, width));
        }
    }

    private void GatherGradientRange(int worker, int firstGroup, int endGroup)
    {
        for (int g = firstGroup; g < endGroup; g++)
        {
            GatherGradient(_outputGradient!.Span, g);
        }
    }

    // dY (batch, filters, OH·OW) → group g's (filters, samples·OH·OW), and each row's fixed-lane sum for the bias
    // gradient while the row is in L1.
    private void GatherGradient(ReadOnlySpan<float> outputGradient, int g)
    {
        var (first, samples) = GroupSamples(g);
        int positions = _geometry.ColumnCount;
        int width = samples * positions;
        var product = GroupProduct(g, width);
        for (int i = 0; i < samples; i++)
        {
            for (int f = 0; f < _filters; f++)
            {
                int row = (first + i) * _filters + f;
                var source = outputGradient.Slice(row * positions, positions);
                _rowSums[row] = OrderedSum.Sum(source);
                source.CopyTo(product.Slice(f * width + i * positions, positions));
            }
        }
    }

    // db[f] = Σ over samples in order, in double, of the fixed-lane sums (OrderedSum) of the rows dY[b, f, :]
    // that the gather or the narrow weight gradient took.
    private void BiasGradientFromRowSums()
    {
        var biasGradient = _gradients.AsSpan(_bias!.Offset, _filters);
        for (int f = 0; f < _filters; f++)
        {
            double sum = 0;
            for (int b = 0; b < _batch; b++)
            {
                sum += _rowSums[b * _filters + f];
            }

            biasGradient[f] = (float)sum;
        }
    }

    // dWᵀ (C·k·k, filters) = the sum over groups, in group order, of columns_g · dY_gᵀ (class remarks). Computed
    // transposed so that a worker can own a run of its rows, contiguous in both columns_g and dWᵀ, through all
    // groups: one hand-off between threads per pass rather than one per group. Each element is the same chain
    // of multiply-adds whichever worker owns its row. The worker rebuilds its rows of each group's columns in
    // its own slot, where they stay in L2 for the GEMM.
    private void WeightGradientRange(int worker, int firstTile, int endTile)
    {
        int rows = _geometry.ColumnRows;
        int first = firstTile * _weightGradientRowTile;
        int end = Math.Min(rows, endTile * _weightGradientRowTile);
        if (first >= end)
        {
            return;
        }

        var target = _transposedWeightGradient.AsSpan(first * _filters, (end - first) * _filters);
        var input = _input!.Span;
        int positions = _geometry.ColumnCount;
        int imageLength = _geometry.ImageLength;
        for (int g = 0; g < _groups; g++)
        {
            var (firstSample, samples) = GroupSamples(g);
            int width = samples * positions;
            var columns = GroupColumns(worker, width)[..((end - first) * width)];
            for (int i = 0; i < samples; i++)
            {
                var image = input.Slice((firstSample + i) * imageLength, imageLength);
                Im2Col.ImageToColumns(_geometry, image, columns[(i * positions)..], width, first, end);
            }

            // (rows, samples·OH·OW) · (samples·OH·OW, filters) = (rows, filters)
            Gemm.Multiply(
                Transpose.No, Transpose.Yes, end - first, _filters, width, columns, GroupProduct(g, width), target,
                accumulate: g > 0);
        }
    }

    // dW (filters, C·k·k) for filters [firstFilter, endFilter): the sum over groups, in group order, of
    // dY_g · columns_gᵀ, written in place in the gradient vector.
    private void FilterWeightGradientRange(int worker, int firstFilter, int endFilter)
    {
        int rows = _geometry.ColumnRows;
        int count = endFilter - firstFilter;
        var target = _gradients.AsSpan(_weight!.Offset + firstFilter * rows, count * rows);
        for (int g = 0; g < _groups; g++)
        {
            int width = GroupSamples(g).Count * _geometry.ColumnCount;
            var outputGradient = GroupProduct(g, width).Slice(firstFilter * width, count * width);

            // (filters, samples·OH·OW) · (samples·OH·OW, rows) = (filters, rows)
            Gemm.Multiply(
                Transpose.No, Transpose.Yes, count, rows, width, outputGradient, GroupColumns(g, width), target,
                accumulate: g > 0);
        }
    }

    // dW (filters, C·k·k) for the filters of groups of 8 [firstGroup, endGroup), by NarrowWeightGradient: the
    // groups of samples in order, each continuing the chains through dW.
    private void NarrowWeightGradientRange(int worker, int firstGroup, int endGroup)
    {
        int rows = _geometry.ColumnRows;
        int positions = _geometry.ColumnCount;
        int firstFilter = firstGroup * 8;
        int endFilter = Math.Min(_filters, endGroup * 8);
        var outputGradient = _outputGradient!.Span;
        var weightGradient = _gradients.AsSpan(_weight!.Offset, _weight.Length);
        for (int g = 0; g < _groups; g++)
        {
            var (first, samples) = GroupSamples(g);
            int width = samples * positions;
            NarrowWeightGradient.Accumulate(
                outputGradient.Slice(first * _filters * positions, samples * _filters * positions),
                samples,
                _filters,
                positions,
                GroupColumns(g, width),
                rows,
                width,
                weightGradient,
                firstFilter,
                endFilter,
                accumulate: g > 0,
                _packedGradient[worker],
                _narrowRowSums ? _rowSums.AsSpan(first * _filters, samples * _filters) : default);
        }
    }

    private void EnsurePackedGradient(int workers)
    {
        int length = 8 * _geometry.ColumnCount;
        if (_packedGradient.Length < workers)
        {
            _packedGradient = new float[workers][];
            for (int w = 0; w < workers; w++)
            {
                _packedGradient[w] = new float[length];
            }
        }
    }

    private void TransposeWeightGradient()
    {
        int rows = _geometry.ColumnRows;
        var weightGradient = _gradients.AsSpan(_weight!.Offset, _weight.Length);
        for (int f = 0; f < _filters; f++)
        {
            for (int r = 0; r < rows; r++)
            {
                weightGradient[f * rows + r] = _transposedWeightGradient[r * _filters + f];
            }
        }
    }

    // Per group: (C·k·k, filters) · (filters, samples·OH·OW) over the columns no longer needed, then col2im.
    private void InputGradientRange(int worker, int firstGroup, int endGroup)
    {
        var inputGradient = _inputGradientView!.Span;
        var weight = _parameters.AsSpan(_weight!.Offset, _weight.Length);
        int rows = _geometry.ColumnRows;
        int positions = _geometry.ColumnCount;
        int imageLength = _geometry.ImageLength;
        for (int g = firstGroup; g < endGroup; g++)
        {
            var (first, samples) = GroupSamples(g);
            int width = samples * positions;
            var columns = GroupColumns(worker, width);
            var product = GroupProduct(g, width);
            Gemm.Multiply(
                Transpose.Yes, Transpose.No, rows, width, _filters, weight, product, columns, threads: _gemmThreads);

            for (int i = 0; i < samples; i++)
            {
                var image = inputGradient.Slice((first + i) * imageLength, imageLength);
                Im2Col.ColumnsToImage(_geometry, columns[(i * positions)..], image, width);
            }
        }
    }

    // Whether the weight gradient is split among threads by column rows (see WeightGradientRange), the path
    // that rebuilds the columns rather than keeping them.
    private bool SplitsWeightGradientByRows(int threads) => !UsesNarrowWeightGradient && RowTiles >= threads;

    // Few column rows (e.g. a first layer on one input channel): the weight gradient by NarrowWeightGradient.
    private bool UsesNarrowWeightGradient =>
        _geometry.ColumnRows <= NarrowWeightGradient.MaxRows && NarrowWeightGradient.IsSupported;

    private int RowTiles => (_geometry.ColumnRows + _weightGradientRowTile - 1) / _weightGradientRowTile;

    private static int GemmThreads(int groups, int threads) =>
        Math.Max(1, threads / ParallelRanges.Workers(groups, threads));

    // As few groups as _maxGroupSamples allows, rounded up to a multiple of the threads (while every group keeps a
    // sample) so that each thread gets as many groups, and group sizes that differ by at most one sample.
    private int PlanGroups(int batch, int threads)
    {
        int groups = (batch + _maxGroupSamples - 1) / _maxGroupSamples;
        int workers = Math.Max(1, threads);
        groups = Math.Min(batch, (groups + workers - 1) / workers * workers);
        _groups = groups;
        _groupSamples = (batch + groups - 1) / groups;
        return groups;
    }

    // Group g holds samples [g·batch/groups, (g + 1)·batch/groups).
    private (int First, int Count) GroupSamples(int g)
    {
        int first = (int)((long)g * _batch / _groups);
        int end = (int)((long)(g + 1) * _batch / _groups);
        return (first, end - first);
    }

    // Column matrix slot (a group's, or a worker's in evaluation): (C·k·k, width).
    private Span<float> GroupColumns(int slot, int width) =>
        _columns.AsSpan(
            slot * _geometry.ColumnRows * _groupSamples * _geometry.ColumnCount, _geometry.ColumnRows * width);

    // Product matrix slot: (filters, width).
    private Span<float> GroupProduct(int slot, int width) =>
        _filterMajor.AsSpan(slot * _filters * _groupSamples * _geometry.ColumnCount, _filters * width);

    // Column slots and product slots; backward gathers every group's dY, so it needs a product slot per group.
    private void EnsureSlots(int slots, int productSlots)
    {
        long columnLength = (long)_geometry.ColumnRows * slots * _groupSamples * _geometry.ColumnCount;
        long productLength = (long)_filters * productSlots * _groupSamples * _geometry.ColumnCount;
        if (_columns.Length < columnLength)
        {
            _columns = new float[checked((int)columnLength)];
        }

        if (_filterMajor.Length < productLength)
        {
            _filterMajor = new float[checked((int)productLength)];
        }
    }

    private static ParameterSegment Segment(ParameterSegment? segment) =>
        segment ?? throw new InvalidOperationException("Conv2D layer is not built.");
}
