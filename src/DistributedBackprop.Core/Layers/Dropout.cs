using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace DistributedBackprop.Core.Layers;

/// <summary>
/// Inverted dropout (Srivastava et al., "Dropout: A Simple Way to Prevent Neural Networks from Overfitting",
/// JMLR 2014): in training each element is zeroed with probability <paramref name="rate"/> and kept elements are
/// scaled by 1 / (1 - rate), so evaluation is the identity.
/// </summary>
/// <remarks>
/// The keep decision for element e of a row is a hash of (run seed ^ layer salt, step, the row's sample id, e),
/// so a sample's mask is the same however the global batch is split into micro-batches or across workers.
/// The layer salt comes from <see cref="ParameterLayoutBuilder.NextStreamId"/> at build time: the dropout
/// layers of a model get distinct masks, and every model built from the same spec gets the same ones.
/// </remarks>
/// <exception cref="ArgumentOutOfRangeException"><paramref name="rate"/> is outside [0, 1).</exception>
public sealed class Dropout(float rate) : Layer
{
    // ASCII "DROPOUT!": keeps dropout salts apart from any other hash of small stream ids.
    private const ulong SaltDomain = 0x44524F504F555421UL;

    private readonly float _rate = rate >= 0f && rate < 1f
        ? rate
        : throw new ArgumentOutOfRangeException(nameof(rate), rate, "A dropout rate must be in [0, 1).");

    private readonly TensorBuffer _mask = new();
    private readonly TensorBuffer _output = new();
    private readonly TensorBuffer _inputGradient = new();
    private ulong _salt;
    private int _sampleLength;
    private bool _masked;
    private Tensor? _lastMask;

    public override string Type => "dropout";

    public float Rate => _rate;

    // input: (batch, ...shape) → output: same shape
    public override Tensor Forward(Tensor input, LayerContext context)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(context);
        _masked = context.Training && _rate > 0f;
        if (!_masked)
        {
            return input;
        }

        int batch = input.Shape[0];
        if (context.SampleIds.Length != batch)
        {
            throw new ArgumentException(
                $"LayerContext.SampleIds has {context.SampleIds.Length} ids but the micro-batch has {batch} rows; "
                + "dropout needs one sample id per row.",
                nameof(context));
        }

        // mask: (batch, ...shape), each element 0 or 1 / (1 - rate)
        var mask = _mask.Get(batch, InputShape);
        FillMask(mask.Span, context);
        _lastMask = mask;

        var output = _output.Get(batch, OutputShape);
        TensorPrimitives.Multiply(input.Span, mask.Span, output.Span);
        return output;
    }

    public override Tensor? Backward(Tensor outputGradient, LayerContext context, bool needInputGradient)
    {
        ArgumentNullException.ThrowIfNull(outputGradient);
        if (!needInputGradient)
        {
            return null;
        }

        if (!_masked)
        {
            return outputGradient;
        }

        var inputGradient = _inputGradient.Get(outputGradient.Shape[0], InputShape);
        TensorPrimitives.Multiply(outputGradient.Span, _lastMask!.Span, inputGradient.Span);
        return inputGradient;
    }

    protected override int[] OnBuild(int[] inputShape, ParameterLayoutBuilder parameters)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        ArgumentNullException.ThrowIfNull(parameters);
        _salt = DeterministicRandom.Hash(SaltDomain, (ulong)parameters.NextStreamId(), 0, 0);
        _sampleLength = (int)ShapeUtil.Product(inputShape);
        return inputShape.ToArray();
    }

    private void FillMask(Span<float> mask, LayerContext context)
    {
        float scale = 1f / (1f - _rate);
        ulong key = context.Seed ^ _salt;
        ulong step = (ulong)context.Step;
        for (int row = 0; row < context.SampleIds.Length; row++)
        {
            ulong sample = (ulong)context.SampleIds[row];
            var rowMask = mask.Slice(row * _sampleLength, _sampleLength);
            for (int e = 0; e < rowMask.Length; e++)
            {
                float u = DeterministicRandom.HashToUnitFloat(DeterministicRandom.Hash(key, step, sample, (ulong)e));
                rowMask[e] = u >= _rate ? scale : 0f;
            }
        }
    }
}
