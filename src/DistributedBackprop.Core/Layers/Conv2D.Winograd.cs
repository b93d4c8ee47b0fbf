using DistributedBackprop.Core.Kernels;
using DistributedBackprop.Core.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace DistributedBackprop.Core.Layers;

// 3×3 convolutions at stride 1 over more than a few channels run as Winograd F(2×2, 3×3) (see WinogradF2x3):
// 16 GEMMs on transformed tiles instead of one on im2col columns, 16 multiplies per output tile and channel pair
// where im2col needs 36.
//
// The batch is cut into groups of at most WinogradGroupTiles tiles, by the batch size alone, and the groups are
// spread over the threads. Forward, per group: transform the group's images into V (16, channels, tiles),
// M_ξ = U_ξ·V_ξ for the 16 positions, and transform M back into the output, bias added. Backward, per group,
// while its data is in cache: V again (as fast as keeping every group's V from forward, measured on the cnn
// preset, and 13 MB less at batch 128), dM from dY, the bias gradient's row sums, the group's own
// dU_ξ = dM_ξ·V_ξᵀ, and when the input gradient is needed dV_ξ = U_ξᵀ·dM_ξ transformed back into dX. The groups'
// dU are then added in group order and dW = Gᵀ·dU·G. Since the groups depend on the batch size only, every
// element is computed the same way for any thread count.
public sealed partial class Conv2D
{
    // Tiles a group of samples aims at: enough columns for the 16 GEMMs to run near the kernel's speed (a
    // 64×98×32 product ran at 60% of a 64×392×32 one) while a group's V and M stay in the megabyte range.
    private const int WinogradGroupTiles = 392;

    private readonly Action<int, int, int> _winogradForwardRange;
    private readonly Action<int, int, int> _winogradGradientRange;

    private bool _winograd;
    private int _tilesPerImage;

    // U and dU: (16, filters, channels); each group's dU at g·16·filters·channels.
    private float[] _transformedWeight = [];
    private float[] _transformedWeightGradient = [];
    private float[] _groupWeightGradients = [];

    // Slots of the largest group's size, 16·rows·groupSamples·tiles per image, plus 8 floats at the end for the
    // transforms' whole-vector reads: V, M, dM and dV, one slot per worker.
    private float[] _tileInput = [];
    private float[] _tileProduct = [];
    private float[] _tileOutputGradient = [];
    private float[] _tileInputGradient = [];
    private float[][] _winogradScratch = [];


    private void BuildWinograd()
    {
        _winograd = WinogradF2x3.Applies(_geometry) && !UsesNarrowWeightGradient;
        if (!_winograd)
        {
            return;
        }

        _tilesPerImage = WinogradF2x3.TilesPerImage(_geometry);
        _maxGroupSamples = Math.Max(1, WinogradGroupTiles / _tilesPerImage);
        _transformedWeight = new float[WinogradF2x3.Positions * _filters * _geometry.Channels];
        _transformedWeightGradient = new float[_transformedWeight.Length];
    }

    private Tensor WinogradForward(Tensor input, LayerContext context)
    {
        int batch = input.Shape[0];
        var output = _output.Get(batch, OutputShape);
        _input = input;
        _outputView = output;
        _batch = batch;

        int groups = PlanWinogradGroups(batch);
        int workers = ParallelRanges.Workers(groups, context.Threads);
        EnsureTileSlots(ref _tileInput, _geometry.Channels, workers);
        EnsureTileSlots(ref _tileProduct, _filters, workers);
        EnsureWinogradScratch(workers);
        WinogradF2x3.TransformWeights(
            _parameters.AsSpan(_weight!.Offset, _weight.Length), _filters, _geometry.Channels, _transformedWeight);
        _gemmThreads = GemmThreads(groups, context.Threads);
        ParallelRanges.For(groups, context.Threads, _winogradForwardRange);

        _outputView = null;
        return output;
    }

    private Tensor? WinogradBackward(Tensor outputGradient, LayerContext context, bool needInputGradient)
    {
        int batch = outputGradient.Shape[0];
        int groups = _groups;
        int workers = ParallelRanges.Workers(groups, context.Threads);
        EnsureWinogradScratch(workers);
        EnsureTileSlots(ref _tileInput, _geometry.Channels, workers);
        EnsureTileSlots(ref _tileOutputGradient, _filters, workers);
        if (needInputGradient)
        {
            EnsureTileSlots(ref _tileInputGradient, _geometry.Channels, workers);
        }

        int weightLength = _transformedWeight.Length;
        if (_groupWeightGradients.Length < (long)groups * weightLength)
        {
            _groupWeightGradients = new float[checked(groups * weightLength)];
        }

        if (_rowSums.Length < batch * _filters)
        {
            _rowSums = new float[batch * _filters];
        }

        _outputGradient = outputGradient;
        Tensor? inputGradient = null;
        if (needInputGradient)
        {
            inputGradient = _inputGradient.Get(batch, InputShape);
            _inputGradientView = inputGradient;
        }

        _gemmThreads = GemmThreads(groups, context.Threads);
        ParallelRanges.For(groups, context.Threads, _winogradGradientRange);

        // dU: the groups' parts added in group order.
        var weightGradient = _transformedWeightGradient.AsSpan();
        _groupWeightGradients.AsSpan(0, weightLength).CopyTo(weightGradient);
        for (int g = 1; g < groups; g++)
        {
            TensorPrimitives.Add(weightGradient, _groupWeightGradients.AsSpan(g * weightLength, weightLength), weightGradient);
        }

        WinogradF2x3.WeightGradient(
            _transformedWeightGradient,
            _filters,
            _geometry.Channels,
            _gradients.AsSpan(_weight!.Offset, _weight.Length));
        BiasGradientFromRowSums();

        _outputGradient = null;
        _inputGradientView = null;
        return inputGradient;
    }

    private void WinogradForwardRange(int worker, int firstGroup, int endGroup)
    {
        var input = _input!.Span;
        var output = _outputView!.Span;
        var bias = _parameters.AsSpan(_bias!.Offset, _filters);
        int outLength = _filters * _geometry.ColumnCount;
        for (int g = firstGroup; g < endGroup; g++)
        {
            var (first, samples) = GroupSamples(g);
            int tiles = samples * _tilesPerImage;
            var tileInput = TransformGroupInput(input, g, worker);
            var product = TileSlot(_tileProduct, _filters, worker);
            for (int position = 0; position < WinogradF2x3.Positions; position++)
            {
                Gemm.Multiply(
                    Transpose.No,
                    Transpose.No,
                    _filters,
                    tiles,
                    _geometry.Channels,
                    TransformedWeight(_transformedWeight, position),
                    tileInput.Slice(position * _geometry.Channels * tiles),
                    product.Slice(position * _filters * tiles),
                    threads: _gemmThreads);
            }

            for (int i = 0; i < samples; i++)
            {
                WinogradF2x3.InverseOutput(
                    _geometry,
                    _filters,
                    product,
                    tiles,
                    i * _tilesPerImage,
                    bias,
                    output.Slice((first + i) * outLength, outLength));
            }
        }
    }

    // Group g's V into the worker's slot.
    private Span<float> TransformGroupInput(ReadOnlySpan<float> input, int g, int worker)
    {
        var (first, samples) = GroupSamples(g);
        int tiles = samples * _tilesPerImage;
        int imageLength = _geometry.ImageLength;
        var tileInput = TileSlot(_tileInput, _geometry.Channels, worker);
        for (int i = 0; i < samples; i++)
        {
            WinogradF2x3.TransformInput(
                _geometry,
                input.Slice((first + i) * imageLength, imageLength),
                tileInput,
                tiles,
                i * _tilesPerImage,
                _winogradScratch[worker]);
        }

        return tileInput;
    }

    // Backward (see the file's remarks) for groups [firstGroup, endGroup).
    private void WinogradGradientRange(int worker, int firstGroup, int endGroup)
    {
        var outputGradient = _outputGradient!.Span;
        int positions = _geometry.ColumnCount;
        int outLength = _filters * positions;
        int imageLength = _geometry.ImageLength;
        int channels = _geometry.Channels;
        for (int g = firstGroup; g < endGroup; g++)
        {
            var (first, samples) = GroupSamples(g);
            int tiles = samples * _tilesPerImage;
            var dm = TileSlot(_tileOutputGradient, _filters, worker);
            for (int i = 0; i < samples; i++)
            {
                var sampleGradient = outputGradient.Slice((first + i) * outLength, outLength);
                for (int f = 0; f < _filters; f++)
                {
                    _rowSums[(first + i) * _filters + f] = OrderedSum.Sum(sampleGradient.Slice(f * positions, positions));
                }

                WinogradF2x3.TransformOutputGradient(
                    _geometry, _filters, sampleGradient, dm, tiles, i * _tilesPerImage, _winogradScratch[worker]);
            }

            // The group's dU_ξ = dM_ξ·V_ξᵀ, and dV_ξ = U_ξᵀ·dM_ξ while dM_ξ is in cache.
            var tileInput = TransformGroupInput(_input!.Span, g, worker);
            int weightLength = _transformedWeight.Length;
            var groupWeightGradient = _groupWeightGradients.AsSpan(g * weightLength, weightLength);
            var dv = _inputGradientView is null ? default : TileSlot(_tileInputGradient, channels, worker);
            for (int position = 0; position < WinogradF2x3.Positions; position++)
            {
                Gemm.Multiply(
                    Transpose.No,
                    Transpose.Yes,
                    _filters,
                    channels,
                    tiles,
                    dm.Slice(position * _filters * tiles),
                    tileInput.Slice(position * channels * tiles),
                    groupWeightGradient.Slice(position * _filters * channels, _filters * channels),
                    threads: _gemmThreads);
                if (_inputGradientView is null)
                {
                    continue;
                }

                Gemm.Multiply(
                    Transpose.Yes,
                    Transpose.No,
                    channels,
                    tiles,
                    _filters,
                    TransformedWeight(_transformedWeight, position),
                    dm.Slice(position * _filters * tiles),
                    dv.Slice(position * channels * tiles),
                    threads: _gemmThreads);
            }

            if (_inputGradientView is null)
            {
                continue;
            }

            var inputGradient = _inputGradientView.Span;
            for (int i = 0; i < samples; i++)
            {
                WinogradF2x3.InverseInput(
                    _geometry,
                    dv,
                    tiles,
                    i * _tilesPerImage,
                    inputGradient.Slice((first + i) * imageLength, imageLength),
                    _winogradScratch[worker]);
            }
        }
    }

    // As few groups as WinogradGroupTiles allows, of sizes that differ by at most one sample: set by the batch size
    // alone, since each group's dU is a sum of its own.
    private int PlanWinogradGroups(int batch)
    {
        _groups = Math.Max(1, (batch + _maxGroupSamples - 1) / _maxGroupSamples);
        _groupSamples = (batch + _groups - 1) / _groups;
        return _groups;
    }

    private ReadOnlySpan<float> TransformedWeight(float[] transformed, int position)
    {
        int length = _filters * _geometry.Channels;
        return transformed.AsSpan(position * length, length);
    }

    private int TileSlotLength(int rows) =>
        WinogradF2x3.Positions * rows * _groupSamples * _tilesPerImage;

    // Slot of a (16, rows, tiles) matrix set, running to the array's end so the transforms' 8-lane reads past a
    // group's last tile stay inside it.
    private Span<float> TileSlot(float[] buffer, int rows, int slot) => buffer.AsSpan(slot * TileSlotLength(rows));

    private void EnsureTileSlots(ref float[] buffer, int rows, int slots)
    {
        long length = (long)TileSlotLength(rows) * slots + 8;
        if (buffer.Length < length)
        {
            buffer = new float[checked((int)length)];
        }
    }

    private void EnsureWinogradScratch(int workers)
    {
        int length = WinogradF2x3.ScratchLength(_geometry);
        if (_winogradScratch.Length < workers || _winogradScratch[0].Length < length)
        {
            _winogradScratch = new float[Math.Max(workers, _winogradScratch.Length)][];
            for (int w = 0; w < _winogradScratch.Length; w++)
            {
                _winogradScratch[w] = new float[length];
            }
        }
    }
}
