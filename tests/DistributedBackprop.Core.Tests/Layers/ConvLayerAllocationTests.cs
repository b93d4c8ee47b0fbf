using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Layers;

public sealed class ConvLayerAllocationTests
{
    public static TheoryData<string> Layers => ["conv", "maxpool", "avgpool", "globalavgpool", "batchnorm", "residual"];

    [Theory]
    [MemberData(nameof(Layers))]
    public void ForwardBackward_AfterFirstStep_AllocatesNothingOnOneThread(string kind)
    {
        Layer layer = kind switch
        {
            "conv" => new Conv2D(4, 3, 2, 1),
            "maxpool" => new MaxPool2D(2),
            "avgpool" => new AvgPool2D(2),
            "globalavgpool" => new GlobalAvgPool(),
            "batchnorm" => new BatchNorm(),
            _ => ResidualBlock.Basic(3, 4, 2),
        };
        _ = new LayerHarness(layer, [3, 8, 6]);
        var input = LayerHarness.RandomTensor(1, 4, 3, 8, 6);
        var outputGradient = LayerHarness.RandomTensor(2, ShapeUtil.WithBatch(4, layer.OutputShape));
        var context = LayerHarness.Context(4);
        layer.Forward(input, context);
        layer.Backward(outputGradient, context, true);

        long before = GC.GetAllocatedBytesForCurrentThread();
        layer.Forward(input, context);
        layer.Backward(outputGradient, context, true);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated == 0, $"{kind}: a steady-state step allocated {allocated} bytes");
    }
}
