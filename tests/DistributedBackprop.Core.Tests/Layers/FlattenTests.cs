using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Layers;

public sealed class FlattenTests
{
    [Fact]
    public void Forward_ImageBatch_ReshapesWithoutCopying()
    {
        var layer = new Flatten();
        _ = new LayerHarness(layer, [2, 3, 4]);
        var input = LayerHarness.RandomInput(5, [2, 3, 4], seed: 1);

        var output = layer.Forward(input, LayerHarness.ContextFor(training: true, batch: 5));

        Assert.Equal([24], layer.OutputShape);
        Assert.Equal([5, 24], output.Shape);
        Assert.Same(input.Data, output.Data);
        Assert.Equal(input.Offset, output.Offset);
    }

    [Fact]
    public void Backward_RestoresSampleShapeWithoutCopying()
    {
        var layer = new Flatten();
        _ = new LayerHarness(layer, [2, 3, 4]);
        var context = LayerHarness.ContextFor(training: true, batch: 5);
        layer.Forward(LayerHarness.RandomInput(5, [2, 3, 4], seed: 1), context);
        var outputGradient = new Tensor(new float[200], 40, 5, 24);

        var inputGradient = layer.Backward(outputGradient, context, needInputGradient: true)!;

        Assert.Equal([5, 2, 3, 4], inputGradient.Shape);
        Assert.Same(outputGradient.Data, inputGradient.Data);
        Assert.Equal(40, inputGradient.Offset);
    }

    [Fact]
    public void Forward_SameInputTwice_ReusesTheView()
    {
        var layer = new Flatten();
        _ = new LayerHarness(layer, [3, 2]);
        var input = LayerHarness.RandomInput(2, [3, 2], seed: 1);
        var context = LayerHarness.ContextFor(training: true, batch: 2);

        Assert.Same(layer.Forward(input, context), layer.Forward(input, context));
    }

    [Fact]
    public void Backward_FiniteDifferences_MatchAnalyticGradient()
    {
        var result = GradientCheck.Check(new Flatten(), [2, 2, 3], batch: 2, epsilon: 1f);

        Assert.True(result.MaxInputError < 1e-3, $"input error {result.MaxInputError}");
        Assert.Equal(24, result.Checked);
    }
}
