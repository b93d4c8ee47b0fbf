using System.Diagnostics;
using DistributedBackprop.Core.Kernels;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace DistributedBackprop.Core.Layers;

/// <summary>
/// Fully connected layer: <c>y = x·Wᵀ + b</c>. Input per sample is (inFeatures); output is (units).
/// Parameters: <c>weight</c> (units, inFeatures) initialised by <paramref name="init"/>, <c>bias</c> (units) zeros
/// (or, for <see cref="InitKind.FanInUniform"/>, drawn with the weights' bound).
/// </summary>
/// <exception cref="ArgumentOutOfRangeException"><paramref name="units"/> is not positive.</exception>
public sealed class Dense(int units, InitKind init = InitKind.HeNormal) : Layer
{
    private readonly int _units = units > 0
        ? units
        : throw new ArgumentOutOfRangeException(nameof(units), units, "A dense layer needs at least one unit.");

    private readonly InitKind _init = Enum.IsDefined(init)
        ? init
        : throw new ArgumentOutOfRangeException(nameof(init), init, "Unknown initialiser kind.");

    private readonly TensorBuffer _output = new();
    private readonly TensorBuffer _inputGradient = new();
    private ParameterSegment? _weight;
    private ParameterSegment? _bias;
    private int _inFeatures;
    private float[] _parameters = [];
    private float[] _gradients = [];
    private Tensor? _input;

    public override string Type => "dense";

    public int Units => _units;

    public InitKind Init => _init;

    public override void Bind(float[] parameters, float[] gradients)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(gradients);
        var bias = _bias ?? throw new InvalidOperationException("Build the dense layer before binding it.");
        if (parameters.Length < bias.End || gradients.Length < bias.End)
        {
            throw new ArgumentException(
                $"Parameter and gradient arrays ({parameters.Length}, {gradients.Length}) are shorter than the "
                + $"dense layer's segments, which end at {bias.End}.");
        }

        _parameters = parameters;
        _gradients = gradients;
    }

    public override void Initialize(float[] parameters, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var weight = _weight ?? throw new InvalidOperationException("Build the dense layer before initialising it.");
        var bias = _bias!;

        // The stream depends on where the segment sits, not on when this runs, so layers may initialise in any order.
        var rng = new DeterministicRandom(seed, (ulong)weight.Offset);
        Initializers.Fill(parameters.AsSpan(weight.Offset, weight.Length), _init, _inFeatures, _units, rng);
        Initializers.FillBias(parameters.AsSpan(bias.Offset, bias.Length), _init, _inFeatures, rng);
    }

    // input: (batch, inFeatures) → output: (batch, units)
    public override Tensor Forward(Tensor input, LayerContext context)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(context);
        Debug.Assert(input.Rank == 2 && input.Shape[1] == _inFeatures, "dense input must be (batch, inFeatures)");
        int batch = input.Shape[0];
        var output = _output.Get(batch, OutputShape);

        // Seed every row with the bias and let the GEMM accumulate onto it: one pass over the output instead of two.
        ReadOnlySpan<float> bias = Bias;
        var y = output.Span;
        for (int row = 0; row < batch; row++)
        {
            bias.CopyTo(y.Slice(row * _units, _units));
        }

        Gemm.Multiply(
            Transpose.No, Transpose.Yes, batch, _units, _inFeatures, input.Span, Weight, y,
            accumulate: true, threads: context.Threads);

        _input = input;
        return output;
    }

    // outputGradient: (batch, units) → input gradient: (batch, inFeatures)
    public override Tensor? Backward(Tensor outputGradient, LayerContext context, bool needInputGradient)
    {
        ArgumentNullException.ThrowIfNull(outputGradient);
        ArgumentNullException.ThrowIfNull(context);
        var input = _input ?? throw new InvalidOperationException("dense backward called before forward.");
        int batch = input.Shape[0];
        ReadOnlySpan<float> dy = outputGradient.Span;
        Debug.Assert(dy.Length == batch * _units, "output gradient must be (batch, units)");

        // dW (units, inFeatures) = dYᵀ · X; the GEMM sums over the batch (its k) in a fixed order.
        Gemm.Multiply(
            Transpose.Yes, Transpose.No, _units, _inFeatures, batch, dy, input.Span, WeightGradient,
            accumulate: false, threads: context.Threads);

        // db = column sums of dY, rows added in ascending order on one thread, so the sum never depends on threads.
        var biasGradient = BiasGradient;
        biasGradient.Clear();
        for (int row = 0; row < batch; row++)
        {
            TensorPrimitives.Add(biasGradient, dy.Slice(row * _units, _units), biasGradient);
        }

        if (!needInputGradient)
        {
            return null;
        }

        // dX (batch, inFeatures) = dY · W
        var inputGradient = _inputGradient.Get(batch, InputShape);
        Gemm.Multiply(
            Transpose.No, Transpose.No, batch, _inFeatures, _units, dy, Weight, inputGradient.Span,
            accumulate: false, threads: context.Threads);
        return inputGradient;
    }

    protected override int[] OnBuild(int[] inputShape, ParameterLayoutBuilder parameters)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        ArgumentNullException.ThrowIfNull(parameters);
        if (inputShape.Length != 1)
        {
            throw new ArgumentException(
                $"A dense layer takes one feature dimension per sample, but its input shape is "
                + $"{ShapeUtil.Format(inputShape)}; add a flatten layer before it.",
                nameof(inputShape));
        }

        if (inputShape[0] <= 0)
        {
            throw new ArgumentException(
                "A dense layer needs at least one input feature, but its input shape is "
                + $"{ShapeUtil.Format(inputShape)}.",
                nameof(inputShape));
        }

        _inFeatures = inputShape[0];
        _weight = parameters.Add("weight", ParameterKind.Weight, _units, _inFeatures);
        _bias = parameters.Add("bias", ParameterKind.Bias, _units);
        return [_units];
    }

    // weight: (units, inFeatures)
    private Span<float> Weight => _parameters.AsSpan(_weight!.Offset, _weight.Length);

    // bias: (units)
    private Span<float> Bias => _parameters.AsSpan(_bias!.Offset, _bias.Length);

    private Span<float> WeightGradient => _gradients.AsSpan(_weight!.Offset, _weight.Length);

    private Span<float> BiasGradient => _gradients.AsSpan(_bias!.Offset, _bias.Length);
}
