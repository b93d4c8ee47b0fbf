using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Models;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Layers;

public sealed class LayerFusionTests
{
    [Theory]
    [InlineData(true, 1)]
    [InlineData(true, 3)]
    [InlineData(false, 2)]
    public void BatchNormRelu_InModel_MatchesTheLayersApartBitForBit(bool training, int threads)
    {
        // (4, 5, 3): a plane of 15 values, so each row has a vector part and a scalar tail.
        int[] shape = [4, 5, 3];
        const int batch = 6;
        var model = new Model([new BatchNorm(), new ReLU()], shape);
        model.Initialize(seed: 3);
        var batchNorm = new LayerHarness(new BatchNorm(), shape, seed: 3);
        var relu = new LayerHarness(new ReLU(), shape);
        Shift(model.Parameters, batchNorm.Parameters);
        var input = LayerHarness.RandomInput(batch, shape, seed: 8);
        var gradient = LayerHarness.RandomInput(batch, shape, seed: 9);

        // Exact zeros, a NaN and a negative zero, where max and the mask must agree with the ReLU layer's.
        input[0] = float.NaN;
        gradient[1] = -0f;
        gradient[2] = float.PositiveInfinity;

        var context = LayerHarness.Context(batch, training, threads);
        var fused = model.Forward(input, context).Span.ToArray();
        var apart = relu.Layer.Forward(batchNorm.Layer.Forward(input, context), context).Span.ToArray();
        var fusedInputGradient = model.Layers[0].Backward(
            model.Layers[1].Backward(gradient, context, needInputGradient: true)!, context, needInputGradient: true)!;
        var apartInputGradient = batchNorm.Layer.Backward(
            relu.Layer.Backward(gradient, context, needInputGradient: true)!, context, needInputGradient: true)!;

        Assert.Equal(Bits(apart), Bits(fused));
        Assert.Equal(Bits(apartInputGradient.Span.ToArray()), Bits(fusedInputGradient.Span.ToArray()));
        Assert.Equal(Bits(batchNorm.Gradients), Bits(model.Gradients));
    }

    [Fact]
    public void BatchNormRelu_WithoutInputGradient_StillMasksTheParameterGradients()
    {
        int[] shape = [3, 4, 4];
        const int batch = 4;
        var model = new Model([new BatchNorm(), new ReLU()], shape);
        model.Initialize(seed: 3);
        var batchNorm = new LayerHarness(new BatchNorm(), shape, seed: 3);
        var relu = new LayerHarness(new ReLU(), shape);
        var input = LayerHarness.RandomInput(batch, shape, seed: 8);
        var gradient = LayerHarness.RandomInput(batch, shape, seed: 9);
        var context = LayerHarness.Context(batch);

        model.Forward(input, context);
        model.Backward(gradient, context);
        relu.Layer.Forward(batchNorm.Layer.Forward(input, context), context);
        batchNorm.Layer.Backward(relu.Layer.Backward(gradient, context, true)!, context, needInputGradient: false);

        Assert.Equal(Bits(batchNorm.Gradients), Bits(model.Gradients));
    }

    // Gives β a spread around zero so that some outputs are clipped by the ReLU and some are not.
    private static void Shift(float[] modelParameters, float[] layerParameters)
    {
        for (int i = 0; i < modelParameters.Length; i++)
        {
            float value = modelParameters[i] + 0.25f * (i % 5 - 2);
            modelParameters[i] = value;
            layerParameters[i] = value;
        }
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
