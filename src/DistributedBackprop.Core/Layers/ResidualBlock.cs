using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using DistributedBackprop.Core.Layers.Internal;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Layers;

/// <summary>
/// A residual block (He et al. 2016): output = ReLU(body(x) + skip(x)), where skip is the identity or, when the
/// body changes the shape, a projection (typically a strided 1×1 <see cref="Conv2D"/> and <see cref="BatchNorm"/>).
/// </summary>
/// <remarks>
/// Sub-layer parameters are named <c>body.{i}.…</c> and <c>projection.{i}.…</c> under the block's own scope.
/// </remarks>
public sealed class ResidualBlock : Layer
{
    private readonly Layer[] _body;
    private readonly Layer[]? _projection;
    private readonly TensorBuffer _output = new();
    private readonly TensorBuffer _bodyGradient = new();
    private readonly TensorBuffer _skipGradient = new();
    private readonly TensorBuffer _inputGradient = new();
    private Tensor? _outputView;

    /// <param name="body">The residual branch, applied in order; at least one layer.</param>
    /// <param name="projection">Layers applied to the input on the skip path; null for the identity.</param>
    public ResidualBlock(IReadOnlyList<Layer> body, IReadOnlyList<Layer>? projection = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (body.Count == 0 || body.Any(layer => layer is null))
        {
            throw new ArgumentException(
                "ResidualBlock body needs at least one layer and no null entries.", nameof(body));
        }

        if (projection is not null && (projection.Count == 0 || projection.Any(layer => layer is null)))
        {
            throw new ArgumentException(
                "ResidualBlock projection must be null (identity skip) or hold at least one layer and no null entries.",
                nameof(projection));
        }

        _body = body.ToArray();
        _projection = projection?.ToArray();
    }

    public override string Type => "residual";

    public IReadOnlyList<Layer> Body => _body;

    /// <summary>The skip-path layers, or null when the skip is the identity.</summary>
    public IReadOnlyList<Layer>? Projection => _projection;

    /// <summary>
    /// The basic block of ResNet-18/34: 3×3 conv (stride) + BN + ReLU + 3×3 conv + BN, with a 1×1 conv (stride) + BN
    /// projection when <paramref name="stride"/> ≠ 1 or the channel count changes.
    /// </summary>
    public static ResidualBlock Basic(int inChannels, int filters, int stride)
    {
        if (inChannels <= 0)
        {
            throw new ArgumentException(
                $"ResidualBlock inChannels must be positive, got {inChannels}.", nameof(inChannels));
        }

        Layer[] body =
        [
            new Conv2D(filters, 3, stride, 1),
            new BatchNorm(),
            new ReluActivation(),
            new Conv2D(filters, 3, 1, 1),
            new BatchNorm(),
        ];
        Layer[]? projection = stride != 1 || inChannels != filters
            ? [new Conv2D(filters, 1, stride, 0), new BatchNorm()]
            : null;
        return new ResidualBlock(body, projection);
    }

    public override void Bind(float[] parameters, float[] gradients)
    {
        foreach (var layer in AllLayers())
        {
            layer.Bind(parameters, gradients);
        }
    }

    public override void Initialize(float[] parameters, ulong seed)
    {
        foreach (var layer in AllLayers())
        {
            layer.Initialize(parameters, seed);
        }
    }

    // input: (batch, ...InputShape) → output: (batch, ...OutputShape)
    public override Tensor Forward(Tensor input, LayerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        BatchShape.Require(input, InputShape, Type, nameof(input));

        var branch = input;
        foreach (var layer in _body)
        {
            branch = layer.Forward(branch, context);
        }

        var skip = input;
        foreach (var layer in _projection ?? [])
        {
            skip = layer.Forward(skip, context);
        }

        var output = _output.Get(input.Shape[0], OutputShape);
        var sum = output.Span;
        TensorPrimitives.Add(branch.Span, skip.Span, sum);
        ReluActivation.Apply(sum, sum);
        _outputView = output;
        return output;
    }

    // outputGradient: (batch, ...OutputShape) → input gradient: (batch, ...InputShape)
    public override Tensor? Backward(Tensor outputGradient, LayerContext context, bool needInputGradient)
    {
        ArgumentNullException.ThrowIfNull(context);
        BatchShape.Require(outputGradient, OutputShape, Type, nameof(outputGradient));
        if (_outputView is null || _outputView.Shape[0] != outputGradient.Shape[0])
        {
            throw new InvalidOperationException(
                "ResidualBlock.Backward needs a Forward on a batch of the same size first.");
        }

        // Both paths get their own copy of the gradient at the sum, since a layer may reuse the tensor it is given.
        int batch = outputGradient.Shape[0];
        var bodyGradient = _bodyGradient.Get(batch, OutputShape);
        var skipGradient = _skipGradient.Get(batch, OutputShape);
        ReluActivation.Mask(_outputView.Span, outputGradient.Span, bodyGradient.Span);
        bodyGradient.Span.CopyTo(skipGradient.Span);

        var fromBody = BackwardThrough(_body, bodyGradient, context, needInputGradient);
        var fromSkip = _projection is null
            ? skipGradient
            : BackwardThrough(_projection, skipGradient, context, needInputGradient);
        if (!needInputGradient)
        {
            return null;
        }

        var inputGradient = _inputGradient.Get(batch, InputShape);
        TensorPrimitives.Add(fromBody!.Span, fromSkip!.Span, inputGradient.Span);

        return inputGradient;
    }

    protected override int[] OnBuild(int[] inputShape, ParameterLayoutBuilder parameters)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        ArgumentNullException.ThrowIfNull(parameters);

        int[] bodyShape;
        using (parameters.Scope("body"))
        {
            bodyShape = BuildChain(_body, inputShape, parameters);
        }

        int[] skipShape = inputShape;
        if (_projection is not null)
        {
            using (parameters.Scope("projection"))
            {
                skipShape = BuildChain(_projection, inputShape, parameters);
            }
        }

        if (!ShapeUtil.SameShape(bodyShape, skipShape))
        {
            string skipName = _projection is null ? "identity skip (the input)" : "projection output";
            throw new ArgumentException(
                $"ResidualBlock body output {ShapeUtil.Format(bodyShape)} does not match the {skipName} "
                + $"{ShapeUtil.Format(skipShape)} for input {ShapeUtil.Format(inputShape)}. Add or fix a projection "
                + "(e.g. a 1×1 Conv2D with the body's stride and filters, then BatchNorm) so both paths agree.",
                nameof(inputShape));
        }

        return bodyShape;
    }

    // Each sub-layer gets its position as a scope, so two convolutions do not both declare "body.weight".
    private static int[] BuildChain(Layer[] chain, int[] inputShape, ParameterLayoutBuilder parameters)
    {
        var shape = inputShape;
        for (int i = 0; i < chain.Length; i++)
        {
            using (parameters.Scope(i.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            {
                chain[i].Build(shape, parameters);
            }

            shape = chain[i].OutputShape;
        }

        return shape;
    }

    // The first layer of a chain computes its input gradient only when the block's caller wants one.
    private static Tensor? BackwardThrough(Layer[] chain, Tensor gradient, LayerContext context, bool needInputGradient)
    {
        Tensor? current = gradient;
        for (int i = chain.Length - 1; i >= 0; i--)
        {
            current = chain[i].Backward(current!, context, needInputGradient || i > 0);
        }

        return current;
    }

    private IEnumerable<Layer> AllLayers() => _projection is null ? _body : _body.Concat(_projection);
}
