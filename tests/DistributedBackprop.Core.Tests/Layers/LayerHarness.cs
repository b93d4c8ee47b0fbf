using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Layers;

/// <summary>A layer built, bound to its own flat arrays and initialised: the minimum a test needs.</summary>
internal sealed class LayerHarness
{
    public LayerHarness(Layer layer, int[] sampleShape, ulong seed = 1)
    {
        var builder = new ParameterLayoutBuilder();
        layer.Build(sampleShape, builder);
        Layer = layer;
        Layout = builder.Build();
        Parameters = new float[Layout.Count];
        Gradients = new float[Layout.Count];
        layer.Bind(Parameters, Gradients);
        layer.Initialize(Parameters, seed);
    }

    public Layer Layer { get; }

    public ParameterLayout Layout { get; }

    public float[] Parameters { get; }

    public float[] Gradients { get; }

    public Span<float> Parameter(string name)
    {
        var segment = Layout[name];
        return Parameters.AsSpan(segment.Offset, segment.Length);
    }

    public Span<float> Gradient(string name)
    {
        var segment = Layout[name];
        return Gradients.AsSpan(segment.Offset, segment.Length);
    }

    public static Tensor RandomTensor(ulong seed, params int[] shape)
    {
        var random = new DeterministicRandom(seed, 5);
        var tensor = new Tensor(shape);
        for (int i = 0; i < tensor.Length; i++)
        {
            tensor[i] = (float)random.NextGaussian();
        }

        return tensor;
    }

    public static LayerContext Context(int batch, bool training = true, int threads = 1) => new()
    {
        Training = training,
        Threads = threads,
        Seed = 11,
        Step = 0,
        SampleIds = Enumerable.Range(0, batch).ToArray(),
        BatchFraction = 1f,
    };

    public static Tensor RandomInput(int batch, int[] sampleShape, ulong seed) =>
        RandomTensor(seed, ShapeUtil.WithBatch(batch, sampleShape));

    public static LayerContext ContextFor(
        bool training,
        int batch,
        int firstSampleId = 0,
        long step = 0,
        ulong seed = 1) =>
        new()
        {
            Training = training,
            Seed = seed,
            Step = step,
            SampleIds = Enumerable.Range(firstSampleId, batch).ToArray(),
        };
}
