using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Models;

/// <summary>
/// A sequential stack of layers over one flat parameter vector and one flat gradient vector of the same
/// layout (<see cref="Layout"/>). Not thread-safe: each worker owns its own instance.
/// </summary>
public sealed class Model
{
    private readonly Layer[] _layers;

    // Layers before this index have no parameters, so backward stops here and this layer skips its input
    // gradient: for flatten → dense the input gradient would be a GEMM as large as the weight gradient.
    private readonly int _firstWithParameters;

    /// <param name="inputShape">Per-sample input shape, e.g. (1, 28, 28).</param>
    /// <param name="maxParameters">Refuse models larger than this before allocating anything.</param>
    /// <exception cref="ModelSpecException">A layer does not fit its input shape, or the model is too large;
    /// the field names the layer index.</exception>
    public Model(IReadOnlyList<Layer> layers, int[] inputShape, int maxParameters = ModelSpec.DefaultMaxParameters)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (layers.Count == 0)
        {
            throw new ArgumentException("A model needs at least one layer.", nameof(layers));
        }

        _layers = [.. layers];
        var builder = new ParameterLayoutBuilder();
        int[] shape = inputShape;
        _firstWithParameters = _layers.Length;
        for (int i = 0; i < _layers.Length; i++)
        {
            int parametersBefore = builder.Count;
            try
            {
                using (builder.Scope($"layers.{i}"))
                {
                    _layers[i].Build(shape, builder);
                }
            }
            catch (ArgumentException e)
            {
                throw new ModelSpecException(
                    $"layers[{i}]",
                    $"{_layers[i].Type} does not fit its input of shape {ShapeUtil.Format(shape)}: {e.Message}");
            }

            if (builder.Count > maxParameters)
            {
                throw new ModelSpecException(
                    $"layers[{i}]",
                    $"the model reaches {builder.Count:N0} parameters at this layer; " +
                    $"at most {maxParameters:N0} are allowed.");
            }

            shape = _layers[i].OutputShape;
            if (builder.Count > parametersBefore && _firstWithParameters == _layers.Length)
            {
                _firstWithParameters = i;
            }
        }

        InputShape = inputShape;
        OutputShape = shape;
        Layout = builder.Build();
        Parameters = new float[Layout.Count];
        Gradients = new float[Layout.Count];
        foreach (var layer in _layers)
        {
            layer.Bind(Parameters, Gradients);
        }

        LayerFusion.Apply(_layers);
    }

    public IReadOnlyList<Layer> Layers => _layers;

    public int[] InputShape { get; }

    public int[] OutputShape { get; }

    public ParameterLayout Layout { get; }

    /// <summary>The flat parameter vector; layers read it through views, so write into it, never replace it.</summary>
    public float[] Parameters { get; }

    /// <summary>The flat gradient vector written by <see cref="Backward"/>; same layout as the parameters.</summary>
    public float[] Gradients { get; }

    /// <summary>Initialises every parameter from the seed; the same seed gives the same bits.</summary>
    public void Initialize(ulong seed)
    {
        Array.Clear(Parameters);
        foreach (var layer in _layers)
        {
            layer.Initialize(Parameters, seed);
        }
    }

    /// <summary>input: (batch, ...InputShape) → output: (batch, ...OutputShape).</summary>
    public Tensor Forward(Tensor input, LayerContext context)
    {
        var x = input;
        foreach (var layer in _layers)
        {
            x = layer.Forward(x, context);
        }

        return x;
    }

    /// <summary>
    /// outputGradient: (batch, ...OutputShape). Overwrites <see cref="Gradients"/> with the gradient of the
    /// loss for the last forward pass. Input gradients stop at the first layer with parameters, since nothing
    /// below it has a gradient to receive them.
    /// </summary>
    public void Backward(Tensor outputGradient, LayerContext context)
    {
        var g = outputGradient;
        for (int i = _layers.Length - 1; i >= _firstWithParameters; i--)
        {
            var next = _layers[i].Backward(g, context, needInputGradient: i > _firstWithParameters);
            if (i > _firstWithParameters)
            {
                g = next ?? throw new InvalidOperationException(
                    $"Layer {i} ({_layers[i].Type}) returned no input gradient.");
            }
        }
    }
}
