using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Losses;

namespace DistributedBackprop.Core.Tests.Layers;

/// <summary>After a first step has sized the buffers, a forward/backward pass must not allocate.</summary>
public sealed class SteadyStateAllocationTests
{
    public static TheoryData<string> Layers =>
        ["dense", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax", "flatten", "dropout"];

    [Theory]
    [MemberData(nameof(Layers))]
    public void ForwardBackward_SecondStep_AllocatesNothing(string name)
    {
        Layer layer = name switch
        {
            "dense" => new Dense(8),
            "relu" => new ReLU(),
            "leaky_relu" => new LeakyReLU(),
            "sigmoid" => new Sigmoid(),
            "tanh" => new Tanh(),
            "gelu" => new Gelu(),
            "softmax" => new Softmax(),
            "flatten" => new Flatten(),
            "dropout" => new Dropout(0.5f),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown layer."),
        };
        int[] sampleShape = name is "flatten" ? [2, 3, 4] : [24];
        _ = new LayerHarness(layer, sampleShape);
        var input = LayerHarness.RandomInput(4, sampleShape, seed: 1);
        var context = LayerHarness.ContextFor(training: true, batch: 4);
        var outputGradient = LayerHarness.RandomInput(4, layer.OutputShape, seed: 2);

        layer.Forward(input, context);
        layer.Backward(outputGradient, context, needInputGradient: true);
        long before = GC.GetAllocatedBytesForCurrentThread();
        layer.Forward(input, context);
        layer.Backward(outputGradient, context, needInputGradient: true);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void LossCompute_SecondCall_AllocatesNothing()
    {
        var predictions = LayerHarness.RandomInput(4, [5], seed: 3);
        int[] labels = [0, 4, 2, 1];
        float[] values = new float[20];
        var crossEntropy = new SoftmaxCrossEntropyLoss();
        var meanSquared = new MeanSquaredErrorLoss();
        var binary = new BinaryCrossEntropyLoss();
        void Step()
        {
            crossEntropy.Compute(predictions, LossTargets.FromLabels(labels), 0.25f);
            meanSquared.Compute(predictions, LossTargets.FromValues(values), 0.25f);
            binary.Compute(predictions, LossTargets.FromValues(values), 0.25f);
        }

        Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Step();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }
}
