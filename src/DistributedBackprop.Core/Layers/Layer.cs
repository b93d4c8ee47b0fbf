using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Layers;

/// <summary>
/// A differentiable layer. Shapes are per sample (no batch dimension); tensors passed to
/// <see cref="Forward"/> and <see cref="Backward"/> carry the batch as their first dimension.
/// </summary>
/// <remarks>
/// Life cycle: <see cref="Build"/> once (infers the output shape, declares parameter segments), then
/// <see cref="Bind"/> to the model's flat parameter and gradient arrays, then any number of forward/backward
/// pairs. A layer keeps what backward needs from the last forward and reuses its output buffers, so a
/// steady-state step allocates nothing. Not thread-safe: one model instance per worker.
/// </remarks>
public abstract class Layer
{
    private int[]? _inputShape;
    private int[]? _outputShape;

    /// <summary>The spec name of the layer type, e.g. <c>dense</c>.</summary>
    public abstract string Type { get; }

    public int[] InputShape => _inputShape ?? throw new InvalidOperationException($"{Type} layer is not built.");

    public int[] OutputShape => _outputShape ?? throw new InvalidOperationException($"{Type} layer is not built.");

    /// <summary>Infers the output shape and declares parameters; throws <see cref="ArgumentException"/>
    /// naming the problem when the input shape does not fit.</summary>
    public void Build(int[] inputShape, ParameterLayoutBuilder parameters)
    {
        _inputShape = inputShape;
        _outputShape = OnBuild(inputShape, parameters);
    }

    /// <summary>Points the layer's parameter views at the model's flat arrays (same layout for both).</summary>
    public virtual void Bind(float[] parameters, float[] gradients)
    {
    }

    /// <summary>Writes initial values of this layer's parameters into the flat array.</summary>
    public virtual void Initialize(float[] parameters, ulong seed)
    {
    }

    /// <summary>input: (batch, ...InputShape) → output: (batch, ...OutputShape).</summary>
    public abstract Tensor Forward(Tensor input, LayerContext context);

    /// <summary>
    /// outputGradient: (batch, ...OutputShape), the loss gradient for the last forward's output.
    /// Overwrites (not accumulates) this layer's parameter gradients and returns the input gradient,
    /// or null when <paramref name="needInputGradient"/> is false.
    /// </summary>
    public abstract Tensor? Backward(Tensor outputGradient, LayerContext context, bool needInputGradient);

    protected abstract int[] OnBuild(int[] inputShape, ParameterLayoutBuilder parameters);
}
