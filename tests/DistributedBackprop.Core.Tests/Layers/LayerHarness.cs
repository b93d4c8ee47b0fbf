using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Layers;

/// <summary>A layer built alone into its own flat parameter and gradient arrays, for tests.</summary>
internal sealed class LayerHarness
{
    public LayerHarness(Layer layer, int[] sampleShape, ulong seed = 1)
    {
        Layer = layer;
        var builder = new ParameterLayoutBuilder();
        layer.Build(sampleShape, builder);
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

    public static Tensor RandomInput(int batch, int[] sampleShape, ulong seed)
    {
        var rng = new DeterministicRandom(seed, 5);
        var tensor = new Tensor(ShapeUtil.WithBatch(batch, sampleShape));
        for (int i = 0; i < tensor.Length; i++)
        {
            tensor[i] = (float)rng.NextGaussian();
        }

        return tensor;
    }

    public static LayerContext Context(
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
